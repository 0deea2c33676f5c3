"""The ``inbox-app`` entry point: the command line for sub-commands, the GUI otherwise.

``inbox-app sync``, ``inbox-app smime open ...``: the CLI (:mod:`inbox_app.cli`).
``inbox-app``, ``inbox-app --demo``, ``inbox-app --self-test``, ``inbox-app FILE``: the GUI
(:mod:`inbox_app.ui`), imported only then, so the CLI never loads Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_BAD_INPUT = 2


# The CLI's sub-commands, spelt out so that starting the GUI never imports the CLI (and
# the whole engine with it) before the first window paints. A test keeps this in step
# with the parser.
SUBCOMMANDS = frozenset(
    {
        "account",
        "cert",
        "contact",
        "messages",
        "outbox",
        "profile",
        "search",
        "send",
        "show",
        "smime",
        "sync",
    }
)


def wants_cli(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is a command-line invocation (a sub-command, --help, --version)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-h", "--help", "--version"):
            return True
        if arg == "--home":
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg in SUBCOMMANDS
    return False


GUI_USAGE = "usage: inbox-app [--home DIR] [--demo [--screenshots DIR]] [--self-test] [FILE]"


@dataclass(frozen=True)
class GuiArgs:
    """How the GUI was asked to start."""

    home: str | None = None
    demo: bool = False
    self_test: bool = False
    screenshots: Path | None = None
    file: Path | None = None


class GuiUsageError(ValueError):
    """The GUI's command line is wrong; ``str()`` is one line."""


def parse_gui_args(argv: Sequence[str]) -> GuiArgs:
    """The GUI's few options, read by hand: argparse alone (with the terminal-size and
    locale look-ups its help formatter makes) costs several milliseconds of start-up.

    Raises:
        GuiUsageError: an unknown option, a missing value, or more than one file.
    """
    values: dict[str, str] = {}
    flags: set[str] = set()
    files: list[str] = []
    items = list(argv)
    while items:
        arg = items.pop(0)
        name, has_value, value = arg.partition("=")
        if name in ("--home", "--screenshots"):
            if not has_value:
                if not items:
                    raise GuiUsageError(f"{name} needs a directory")
                value = items.pop(0)
            values[name] = value
        elif arg in ("--demo", "--self-test"):
            flags.add(arg)
        elif arg == "--":
            files.extend(items)
            items = []
        elif arg.startswith("-") and arg != "-":
            raise GuiUsageError(f"unknown option {arg}")
        else:
            files.append(arg)
    if len(files) > 1:
        raise GuiUsageError("open one file at a time")
    screenshots = values.get("--screenshots")
    if screenshots is not None and "--demo" not in flags:
        raise GuiUsageError("--screenshots needs --demo")
    return GuiArgs(
        home=values.get("--home"),
        demo="--demo" in flags,
        self_test="--self-test" in flags,
        screenshots=Path(screenshots) if screenshots is not None else None,
        file=Path(files[0]) if files else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answered here: the CLI's import alone costs a third of a second
        from inbox_app import version  # noqa: PLC0415

        sys.stdout.write(f"inbox-app {version()}\n")
        return 0
    if wants_cli(args):
        from inbox_app.cli.main import main as cli_main  # noqa: PLC0415

        return cli_main(args)
    try:
        parsed = parse_gui_args(args)
    except GuiUsageError as exc:
        sys.stderr.write(f"inbox-app: error: {exc} ({GUI_USAGE}; see --help)\n")
        return EXIT_BAD_INPUT
    from inbox_app.ui.app import run  # noqa: PLC0415 - Qt loads only for the GUI

    return run(
        home=parsed.home,
        demo=parsed.demo,
        self_test=parsed.self_test,
        screenshots=parsed.screenshots,
        file=parsed.file,
    )
