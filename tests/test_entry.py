"""The ``inbox-app`` entry point: sub-commands go to the CLI (which never loads Qt), the
rest to the GUI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inbox_app.app import wants_cli


@pytest.mark.parametrize(
    ("argv", "cli"),
    [
        (["sync"], True),
        (["--home", "/tmp/x", "account", "list"], True),
        (["--help"], True),
        (["--version"], True),
        ([], False),
        (["--demo"], False),
        (["--self-test"], False),
        (["--home", "sync"], False),  # "sync" is the home directory here
        (["message.eml"], False),
        (["--demo", "--screenshots", "shots"], False),
    ],
)
def test_argv_routes_to_cli_or_gui(argv: list[str], cli: bool) -> None:
    assert wants_cli(argv) is cli


def test_the_command_line_never_loads_qt(tmp_path) -> None:
    code = (
        "import sys; from inbox_app.app import main; "
        f"rc = main(['--home', {str(tmp_path)!r}, 'account', 'list']); "
        "assert 'PySide6' not in sys.modules, 'the CLI loaded Qt'; sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_screenshots_need_the_demo(capsys) -> None:
    from inbox_app.app import main

    assert main(["--screenshots", "x"]) == 2
    assert "--demo" in capsys.readouterr().err


def test_the_subcommand_list_matches_the_parser() -> None:
    import argparse

    from inbox_app.app import SUBCOMMANDS
    from inbox_app.cli.main import build_parser

    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(action.choices) == SUBCOMMANDS


def test_the_engine_exports_load_lazily() -> None:
    from inbox_app import smime

    assert sorted(smime._LAZY) == sorted(smime.__all__)
    for name in smime.__all__:
        assert getattr(smime, name) is not None
    with pytest.raises(AttributeError):
        _ = smime.no_such_recipe


def test_version_alone_is_answered_without_the_cli() -> None:
    # The same line as the CLI's --version, without importing the CLI (and the engine).
    import re

    from inbox_app import version

    code = (
        "import sys; from inbox_app.app import main; rc = main(['--version']); "
        "assert 'inbox_app.cli' not in sys.modules, 'the CLI was imported'; sys.exit(rc)"
    )
    fast = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout == f"inbox-app {version()}\n"
    assert re.fullmatch(r"inbox-app \d+\.\d+\.\d+\S*\n", fast.stdout)
    via_cli = subprocess.run(
        [sys.executable, "-c", "from inbox_app.cli.main import main; main(['--version'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert via_cli.stdout == fast.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["--demo"], {"demo": True}),
        (["--home", "/h", "--self-test"], {"home": "/h", "self_test": True}),
        (["--home=/h"], {"home": "/h"}),
        (["--demo", "--screenshots", "out"], {"demo": True, "screenshots": Path("out")}),
        (["cert.p12"], {"file": Path("cert.p12")}),
        (["--", "-odd.eml"], {"file": Path("-odd.eml")}),
    ],
)
def test_gui_arguments(argv: list[str], expected: dict[str, object]) -> None:
    from inbox_app.app import GuiArgs, parse_gui_args

    assert parse_gui_args(argv) == GuiArgs(**expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["--home"], "--home needs a directory"),
        (["a.eml", "b.eml"], "one file at a time"),
        (["--screenshots", "x"], "--screenshots needs --demo"),
    ],
)
def test_bad_gui_arguments_are_one_line_and_exit_2(capsys, argv: list[str], message: str) -> None:
    from inbox_app.app import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
