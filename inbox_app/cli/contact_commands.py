"""``inbox-app contact import|list|confirm``: correspondents' certificates (for encrypting)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_app.fileio import read_file
from inbox_app.services.app import InboxServices

EXIT_OK = 0


def add_parsers(subparsers: Any) -> None:
    contact = subparsers.add_parser(
        "contact", help="your correspondents' certificates (to encrypt to them)"
    )
    commands = contact.add_subparsers(dest="contact_command", metavar="COMMAND", required=True)

    import_ = commands.add_parser("import", help="import a .cer/.pem/.p7c certificate")
    import_.add_argument("file", metavar="CERT")
    import_.set_defaults(handler=run_import)

    list_ = commands.add_parser("list", help="list the contacts' certificates")
    list_.add_argument("--json", action="store_true", help="print a JSON array")
    list_.set_defaults(handler=run_list)

    confirm = commands.add_parser(
        "confirm",
        help="accept a changed key (its SHA256), or keep the current one (the current SHA256)",
    )
    confirm.add_argument("address", metavar="ADDRESS")
    confirm.add_argument("sha256", metavar="SHA256")
    confirm.set_defaults(handler=run_confirm)


def run_import(args: argparse.Namespace, services: InboxServices) -> int:
    data = read_file(Path(args.file), what="certificate file")
    for change in services.contacts.import_file(data, now=datetime.now(UTC)):
        sys.stdout.write(change.describe() + "\n")
    return EXIT_OK


def run_list(args: argparse.Namespace, services: InboxServices) -> int:
    contacts = services.contacts.contacts()
    if args.json:
        sys.stdout.write(json.dumps([contact.to_json() for contact in contacts]) + "\n")
        return EXIT_OK
    for contact in contacts:
        data = contact.to_json()
        changed = (
            f"  CHANGED KEY {data['changed'][:16]} awaits confirmation" if data["changed"] else ""
        )
        sys.stdout.write(
            f"{data['sha256'][:16]}  {data['source']:9}  {data['address']}  "
            f"until {data['not_after'][:10]}{changed}\n"
        )
    return EXIT_OK


def run_confirm(args: argparse.Namespace, services: InboxServices) -> int:
    contact = services.contacts.confirm(args.address, args.sha256)
    sys.stdout.write(f"{contact.address}: using {contact.sha256}\n")
    return EXIT_OK
