"""``inbox-app profile install|list|remove``: managed configuration profiles.

The profiles themselves (formats, payloads, trust, the registry) are described in
:mod:`inbox_app.credentials.profiles`; the command line reaches them through
``services.profiles``.

Exit codes: 0 success; 1 a security check failed (bad or untrusted signature, a profile
that is unsigned without ``--allow-unsigned``); 2 bad input (malformed plist or JSON,
unreadable PKCS#12, wrong password, unfit certificate).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_app.cli import inputs
from inbox_app.errors import one_line
from inbox_app.fileio import StorageError, read_file
from inbox_app.services.app import InboxServices
from inbox_app.smime import SignatureVerificationError

EXIT_OK = 0
EXIT_SECURITY = 1


def add_parsers(subparsers: Any) -> None:
    profile = subparsers.add_parser(
        "profile", help="managed configuration profiles (.mobileconfig, S/MIME bundles)"
    )
    commands = profile.add_subparsers(dest="profile_command", metavar="COMMAND", required=True)

    install = commands.add_parser(
        "install", help="install a .mobileconfig or an S/MIME certificate bundle (JSON)"
    )
    install.add_argument("file", metavar="FILE")
    install.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept a profile that is not signed (only from a source you trust)",
    )
    install.add_argument(
        "--trust-signer",
        metavar="PEM",
        action="append",
        default=[],
        help="also trust this profile signer or its CA (besides <home>/profile-signers/)",
    )
    install.add_argument(
        "--delete-source", action="store_true", help="delete FILE once it is installed"
    )
    install.set_defaults(handler=run_install)

    list_ = commands.add_parser("list", help="list the installed profiles")
    list_.add_argument("--json", action="store_true", help="print a JSON array")
    list_.set_defaults(handler=run_list)

    remove = commands.add_parser(
        "remove", help="remove a profile; its decryption keys stay as historic"
    )
    remove.add_argument("identifier", metavar="ID", help="the profile's PayloadIdentifier")
    remove.add_argument(
        "--purge", action="store_true", help="delete its decryption keys too (old mail stays shut)"
    )
    remove.set_defaults(handler=run_remove)


def run_install(args: argparse.Namespace, services: InboxServices) -> int:
    path = Path(args.file)
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a profile")
    data = read_file(path, what="profile")
    signers = [cert for pem in args.trust_signer for cert in inputs.read_certificates(pem)]
    try:
        result = services.profiles.install_data(
            data,
            extra_signers=signers,
            allow_unsigned=args.allow_unsigned,
            now=datetime.now(UTC),
        )
    except SignatureVerificationError as exc:  # a security refusal, not bad input
        sys.stderr.write(f"inbox-app: {one_line(str(exc))}\n")
        return EXIT_SECURITY
    sys.stdout.write(result.summary() + "\n")
    notes = [*result.notes, *services.apply_profile_accounts(result.profile)]
    for note in notes:
        sys.stdout.write(f"note: {one_line(note)}\n")
    if args.delete_source:
        try:
            path.unlink()
        except OSError as exc:
            raise StorageError(
                f"the profile is installed, but {path} could not be deleted: {exc.strerror or exc}"
            ) from exc
    return EXIT_OK


def run_list(args: argparse.Namespace, services: InboxServices) -> int:
    profiles = services.profiles.list()
    if args.json:
        sys.stdout.write(json.dumps([profile.to_json() for profile in profiles]) + "\n")
        return EXIT_OK
    for profile in profiles:
        sys.stdout.write(profile.summary() + "\n")
    return EXIT_OK


def run_remove(args: argparse.Namespace, services: InboxServices) -> int:
    result = services.profiles.remove(args.identifier, purge=args.purge)
    sys.stdout.write(result.summary() + "\n")
    for note in services.remove_profile_accounts(args.identifier):
        sys.stdout.write(f"note: {one_line(note)}\n")
    return EXIT_OK
