"""The ``inbox-app`` entry point: the command line for sub-commands, the GUI otherwise.

``inbox-app sync``, ``inbox-app smime open ...``: the CLI (:mod:`inbox_app.cli`).
``inbox-app``, ``inbox-app --demo``, ``inbox-app --self-test``, ``inbox-app FILE``: the GUI
(:mod:`inbox_app.ui`), imported only then, so the CLI never loads Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inbox-app", description="Inbox: mail you can trust, with S/MIME."
    )
    parser.add_argument("--home", metavar="DIR", help="data directory")
    parser.add_argument(
        "--demo", action="store_true", help="start on a fresh demo home (no server, no network)"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check crypto, the keyring and a window offscreen; exit 0 or print one reason",
    )
    parser.add_argument(
        "--screenshots", metavar="DIR", type=Path, help="with --demo: save PNGs to DIR and exit"
    )
    parser.add_argument(
        "file", nargs="?", type=Path, help="a .p12, .pfx, .mobileconfig or .eml file to open"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answered here: the CLI's import alone costs a third of a second
        from inbox_app import version  # noqa: PLC0415

        sys.stdout.write(f"inbox-app {version()}\n")
        return 0
    if wants_cli(args):
        from inbox_app.cli.main import main as cli_main  # noqa: PLC0415

        return cli_main(args)
    parsed = gui_parser().parse_args(args)
    if parsed.screenshots is not None and not parsed.demo:
        sys.stderr.write("inbox-app: --screenshots needs --demo\n")
        return EXIT_BAD_INPUT
    from inbox_app.ui.app import run  # noqa: PLC0415 - Qt loads only for the GUI

    return run(
        home=parsed.home,
        demo=parsed.demo,
        self_test=parsed.self_test,
        screenshots=parsed.screenshots,
        file=parsed.file,
    )
