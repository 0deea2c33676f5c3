"""``inbox-app account add|list|remove``: mail accounts (passwords go to the OS keyring)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inbox_app.cli import inputs
from inbox_app.cli.errors import UsageError
from inbox_app.services.app import InboxServices

EXIT_OK = 0


def add_parsers(subparsers: Any) -> None:
    account = subparsers.add_parser("account", help="mail accounts")
    commands = account.add_subparsers(dest="account_command", metavar="COMMAND", required=True)

    add = commands.add_parser("add", help="add an IMAP/SMTP account or a local one")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--email", required=True, metavar="ADDR")
    add.add_argument("--local", action="store_true", help="a local Maildir account, no server")
    add.add_argument("--imap", metavar="HOST:PORT")
    add.add_argument("--smtp", metavar="HOST:PORT")
    add.add_argument("--username", metavar="USER")
    add.add_argument("--password-file", metavar="F", help="file whose first line is the password")
    add.add_argument("--tls", choices=["ssl", "starttls"], default="ssl",
                     help="implicit TLS (default) or STARTTLS")  # fmt: skip
    add.add_argument("--ca-file", metavar="PEM", help="also trust this CA for the servers")
    add.set_defaults(handler=run_add)

    list_ = commands.add_parser("list", help="list the accounts")
    list_.add_argument("--json", action="store_true", help="print a JSON array")
    list_.set_defaults(handler=run_list)

    password = commands.add_parser("password", help="set an account's password")
    password.add_argument("name", metavar="NAME")
    password.add_argument("--password-file", metavar="F", help="file whose first line is it")
    password.set_defaults(handler=run_password)

    remove = commands.add_parser("remove", help="forget an account (its cached mail stays)")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=run_remove)


def run_add(args: argparse.Namespace, services: InboxServices) -> int:
    if args.local:
        if args.imap or args.smtp or args.username or args.password_file:
            raise UsageError("--local takes no servers, username or password")
        account = services.accounts.add_local(args.name, args.email)
    else:
        if not (args.imap and args.smtp and args.username and args.password_file):
            raise UsageError(
                "a server account needs --imap, --smtp, --username and --password-file"
            )
        ca_file = str(inputs.resolve_existing(args.ca_file)) if args.ca_file else None
        password = inputs.read_password(args.password_file, prompt_for=args.name) or b""
        try:
            text = password.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the password file is not UTF-8 text") from None
        account = services.accounts.add_server(
            args.name,
            args.email,
            imap=args.imap,
            smtp=args.smtp,
            username=args.username,
            password=text,
            tls=args.tls,
            ca_file=ca_file,
        )
    sys.stdout.write(f"added {account.name} <{account.email}>\n")
    return EXIT_OK


def run_password(args: argparse.Namespace, services: InboxServices) -> int:
    password = inputs.read_password(args.password_file, prompt_for=args.name) or b""
    try:
        services.accounts.set_password(args.name, password.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError("the password file is not UTF-8 text") from None
    sys.stdout.write(f"password set for {args.name}\n")
    return EXIT_OK


def run_list(args: argparse.Namespace, services: InboxServices) -> int:
    accounts = services.accounts.accounts()
    if args.json:
        sys.stdout.write(json.dumps([account.to_json() for account in accounts]) + "\n")
        return EXIT_OK
    for account in accounts:
        where = "local" if account.local else f"{account.imap.host if account.imap else '?'}"
        sys.stdout.write(f"{account.name}  <{account.email}>  {where}\n")
    return EXIT_OK


def run_remove(args: argparse.Namespace, services: InboxServices) -> int:
    account = services.accounts.remove(args.name)
    sys.stdout.write(f"removed {account.name}\n")
    return EXIT_OK
