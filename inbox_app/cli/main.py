"""The ``inbox-app`` command: global options, sub-commands, one-line errors, exit codes.

Exit codes: 0 success; 1 a security check failed; 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from inbox_app import version
from inbox_app.cli import (
    account_commands,
    cert_commands,
    contact_commands,
    mail_commands,
    profile_commands,
    smime_commands,
)
from inbox_app.errors import InboxError, one_line
from inbox_app.paths import HOME_ENV, resolve_home
from inbox_app.services.app import InboxServices


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(smime_commands.EXIT_BAD_INPUT)


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for (it costs start-up time otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"inbox-app {version()}\n")
        raise SystemExit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="inbox-app",
        description="Inbox: mail you can trust, with S/MIME.",
        epilog="Exit codes: 0 success; 1 a security check failed; 2 bad input or usage.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument(
        "--home", metavar="DIR", help=f"data directory (default: ${HOME_ENV} or the platform's)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    smime_commands.add_parsers(subparsers)
    cert_commands.add_parsers(subparsers)
    contact_commands.add_parsers(subparsers)
    profile_commands.add_parsers(subparsers)
    account_commands.add_parsers(subparsers)
    mail_commands.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return smime_commands.EXIT_BAD_INPUT
    services = InboxServices(resolve_home(args.home))
    try:
        code: int = args.handler(args, services)
    except InboxError as exc:
        sys.stderr.write(f"inbox-app: {one_line(str(exc))}\n")
        return smime_commands.EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return smime_commands.EXIT_OK
    return code


if __name__ == "__main__":
    raise SystemExit(main())
