"""``inbox-app cert import|list|export|remove``: our own identities in the keystore."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from inbox_app.cli import inputs
from inbox_app.cli.errors import UsageError
from inbox_app.fileio import atomic_write, read_file
from inbox_app.services.app import InboxServices

EXIT_OK = 0


def add_parsers(subparsers: Any) -> None:
    cert = subparsers.add_parser("cert", help="your own certificates and keys (the keystore)")
    commands = cert.add_subparsers(dest="cert_command", metavar="COMMAND", required=True)

    import_ = commands.add_parser("import", help="install a .p12/.pfx identity")
    import_.add_argument("file", metavar="FILE.p12")
    import_.add_argument(
        "--password-file", metavar="F", help="file whose first line is the password"
    )
    import_.add_argument("--use", choices=["sign", "encrypt", "both"], default="both")
    import_.set_defaults(handler=run_import)

    list_ = commands.add_parser("list", help="list the identities in the keystore")
    list_.add_argument("--json", action="store_true", help="print a JSON array")
    list_.set_defaults(handler=run_list)

    export = commands.add_parser("export", help="export a certificate (or, if allowed, its key)")
    export.add_argument("sha256", metavar="SHA256", help="the certificate's fingerprint")
    export.add_argument("--private", action="store_true", help="a .p12 with the private key")
    export.add_argument("--password-file", metavar="F", help="the new .p12's password")
    export.add_argument("-o", "--output", metavar="FILE", required=True)
    export.set_defaults(handler=run_export)

    remove = commands.add_parser("remove", help="remove an identity and its key")
    remove.add_argument("sha256", metavar="SHA256")
    remove.set_defaults(handler=run_remove)


def run_import(args: argparse.Namespace, services: InboxServices) -> int:
    data = read_file(Path(args.file), what="PKCS#12 file")
    password = inputs.read_password(args.password_file, prompt_for=args.file)
    entry = services.keystore.import_p12(
        data, password, use=args.use, source=f"p12:{Path(args.file).name}"
    )
    sys.stdout.write(f"installed {entry.sha256} ({', '.join(entry.addresses)}) for {args.use}\n")
    return EXIT_OK


def run_list(args: argparse.Namespace, services: InboxServices) -> int:
    entries = services.keystore.identities()
    if args.json:
        sys.stdout.write(json.dumps([entry.to_json() for entry in entries]) + "\n")
        return EXIT_OK
    for entry in entries:
        data = entry.to_json()
        sys.stdout.write(
            f"{data['sha256'][:16]}  {data['state']:8}  {','.join(data['use']):12}  "
            f"{', '.join(data['addresses'])}  until {data['not_after'][:10]}\n"
        )
    return EXIT_OK


def run_export(args: argparse.Namespace, services: InboxServices) -> int:
    if args.private:
        if not args.password_file:
            raise UsageError("--private needs --password-file with the new password")
        password = inputs.read_password(args.password_file, prompt_for="the exported key")
        data = services.keystore.export_private(args.sha256, password or b"")
    else:
        data = services.keystore.export_certificate(args.sha256)
    atomic_write(Path(args.output), data)
    return EXIT_OK


def run_remove(args: argparse.Namespace, services: InboxServices) -> int:
    entry = services.keystore.remove(args.sha256)
    sys.stdout.write(f"removed {entry.sha256}\n")
    return EXIT_OK
