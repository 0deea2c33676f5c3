"""``inbox-app smime sign`` and ``inbox-app smime open``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cryptography import x509

from inbox_app.cli import inputs
from inbox_app.cli.errors import UsageError
from inbox_app.errors import one_line
from inbox_app.fileio import atomic_write
from inbox_app.services.app import InboxServices
from inbox_app.services.secure_mail import EncryptOptions, SignOptions
from inbox_app.smime import Report, SignatureStatus

EXIT_OK = 0
EXIT_SECURITY = 1
EXIT_BAD_INPUT = 2


class _KeyAction(argparse.Action):
    """``--key`` starts a new key; a following ``--password-file`` belongs to it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        keys = list(getattr(namespace, "keys", None) or [])
        keys.append([values, None])
        namespace.keys = keys


class _PasswordFileAction(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        keys = getattr(namespace, "keys", None) or []
        if keys and keys[-1][1] is None:
            keys[-1][1] = values
        else:
            namespace.password_file = values  # one password file for every key


def add_parsers(subparsers: Any) -> None:
    smime = subparsers.add_parser("smime", help="sign and open S/MIME messages")
    commands = smime.add_subparsers(dest="smime_command", metavar="COMMAND", required=True)

    sign = commands.add_parser("sign", help="sign a whole RFC 5322 message")
    sign.add_argument("input", metavar="IN", help="the message to sign ('-' for stdin)")
    sign.add_argument(
        "--key",
        metavar="ID.p12",
        help="PKCS#12 identity (default: the keystore's signing identity for From)",
    )
    sign.add_argument("--password-file", metavar="F", help="file whose first line is the password")
    sign.add_argument(
        "--opaque",
        action="store_true",
        help="application/pkcs7-mime signed-data instead of multipart/signed",
    )
    sign.add_argument("--digest", choices=["sha256", "sha384", "sha512"], default="sha256")
    sign.add_argument("--pss", action="store_true", help="RSASSA-PSS instead of PKCS#1 v1.5")
    sign.add_argument(
        "--encryption-cert",
        metavar="PEM",
        help="announce this certificate as the one to encrypt to",
    )
    sign.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    sign.set_defaults(handler=run_sign)

    encrypt = commands.add_parser("encrypt", help="encrypt a whole RFC 5322 message")
    encrypt.add_argument("input", metavar="IN", help="the message to encrypt ('-' for stdin)")
    encrypt.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="CERT.pem|ADDRESS",
        help="a recipient's certificate, or their address (from contacts); repeatable",
    )
    encrypt.add_argument(
        "--cipher",
        default="aes-256-gcm",
        choices=["aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"],
    )
    encrypt.add_argument(
        "--oaep",
        action="store_true",
        help="RSA-OAEP (SHA-256) instead of PKCS#1 v1.5 for RSA recipients",
    )
    encrypt.add_argument(
        "--sign-key", metavar="ID.p12", help="sign first with this identity (also made a recipient)"
    )
    encrypt.add_argument("--password-file", metavar="F", help="password for --sign-key")
    encrypt.add_argument(
        "--no-header-protection",
        action="store_true",
        help="leave the message's header fields unprotected (RFC 9788)",
    )
    encrypt.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    encrypt.set_defaults(handler=run_encrypt)

    open_ = commands.add_parser("open", help="verify (and later decrypt) a message and report")
    open_.add_argument("input", metavar="IN", help="the message ('-' for stdin)")
    open_.add_argument(
        "--ca",
        action="append",
        default=[],
        metavar="PEM",
        help="trust these certificate authorities too (repeatable)",
    )
    open_.add_argument(
        "--key",
        action=_KeyAction,
        metavar="ID.p12",
        dest="keys",
        help="a PKCS#12 identity that may decrypt (repeatable)",
    )
    open_.add_argument(
        "--password-file",
        action=_PasswordFileAction,
        metavar="F",
        dest="password_file",
        help="password for the preceding --key, or all",
    )
    open_.add_argument("--at", metavar="ISO8601", help="check certificates at this time")
    open_.add_argument("--json", action="store_true", help="print the report as one JSON object")
    open_.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the displayable message here (only when everything checks out)",
    )
    open_.set_defaults(handler=run_open, keys=[], password_file=None)


def run_sign(args: argparse.Namespace, services: InboxServices) -> int:
    raw = inputs.read_message(args.input)
    if args.key:
        identity = inputs.read_identity(args.key, args.password_file)
    else:
        identity = services.secure_mail.signing_identity(raw)
    encryption_certificate = None
    if args.encryption_cert:
        encryption_certificate = inputs.read_certificates(args.encryption_cert)[0]
    options = SignOptions(
        digest=args.digest,
        opaque=args.opaque,
        pss=args.pss,
        encryption_certificate=encryption_certificate,
    )
    signed = services.secure_mail.sign(raw, identity, now=inputs.parse_time(None), options=options)
    _emit(signed, args.output)
    return EXIT_OK


def run_encrypt(args: argparse.Namespace, services: InboxServices) -> int:
    now = inputs.parse_time(None)
    recipients: list[x509.Certificate] = []
    oaep_recipients: list[x509.Certificate] = []
    for target in args.to:
        if "@" in target and not Path(target).exists():
            # An address: the contact's certificate, only if trusted and fit (issue 4).
            cert, oaep = services.secure_mail.recipient_certificate(target, now=now)
            recipients.append(cert)
            if oaep:
                oaep_recipients.append(cert)
        else:
            # The first certificate of each file is the recipient's; the rest its chain.
            recipients.append(inputs.read_certificates(target)[0])
    sign_with = None
    if args.sign_key:
        sign_with = inputs.read_identity(args.sign_key, args.password_file)
    raw = inputs.read_message(args.input)
    options = EncryptOptions(
        cipher=args.cipher,
        oaep=args.oaep,
        sign_with=sign_with,
        header_protection=not args.no_header_protection,
        oaep_recipients=tuple(oaep_recipients),
    )
    encrypted = services.secure_mail.encrypt(raw, recipients, now=now, options=options)
    _emit(encrypted, args.output)
    return EXIT_OK


def run_open(args: argparse.Namespace, services: InboxServices) -> int:
    now = inputs.parse_time(args.at)
    anchors = [cert for path in args.ca for cert in inputs.read_certificates(path)]
    given = [password_file for _, password_file in args.keys if password_file]
    if args.password_file:
        given.append(args.password_file)
    # One password file, wherever it stands, serves every key; with several, each
    # belongs to the --key in front of it.
    shared = given[0] if len(given) == 1 else args.password_file
    identities = [
        inputs.read_identity(path, password_file or shared) for path, password_file in args.keys
    ]
    raw = inputs.read_message(args.input)
    report = services.secure_mail.open(raw, now=now, extra_anchors=anchors, identities=identities)
    code = exit_code(report)
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=True) + "\n")
    else:
        sys.stdout.write(describe(report))
    if report.error and code != EXIT_OK:
        sys.stderr.write(f"inbox-app: {one_line(report.error)}\n")
    if args.output and code == EXIT_OK and report.inner is not None:
        _emit(report.inner, args.output)
    return code


def exit_code(report: Report) -> int:
    if report.ok:
        return EXIT_OK
    if report.malformed or report.signature is SignatureStatus.ERROR:
        return EXIT_BAD_INPUT
    return EXIT_SECURITY


def describe(report: Report) -> str:
    """The report for people: plain text, one fact a line, control characters removed."""
    lines = [f"signature: {report.signature.value}"]
    for layer in report.signed_layers:
        if layer.signer is not None:
            who = layer.signer.common_name or layer.signer.subject
            addresses = ", ".join(layer.signer.addresses) or "no address"
            lines.append(f"signed by: {who} <{addresses}> ({layer.status.value})")
            lines.append(f"certificate sha256: {layer.signer.sha256}")
    if report.sender_match is not None:
        lines.append(f"sender matches signer: {'yes' if report.sender_match else 'no'}")
    lines.append(f"encryption: {report.encryption.value}")
    if report.decrypted_with is not None:
        historic = " (a historic key)" if report.historic_key else ""
        lines.append(f"decrypted with certificate sha256: {report.decrypted_with}{historic}")
    for name, value in (report.protected_headers or {}).items():
        lines.append(f"protected {name}: {value}")
    if report.layers:
        lines.append("layers: " + " > ".join(report.layers))
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return "".join(one_line(line) + "\n" for line in lines)


def _emit(data: bytes, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"{output} is a directory")
    atomic_write(target, data)
