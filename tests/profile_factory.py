"""Configuration profiles for tests: payload dictionaries, plists, bundles, signatures.

Payload keys follow Apple's Configuration Profile Reference; nothing here is validated,
so tests can also build profiles that are wrong on purpose.
"""

from __future__ import annotations

import base64
import functools
import json
import plistlib
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import cms_forge
from tests.pki import NOW, Issued, make_ca, make_leaf, standard_pki

LONG = NOW + timedelta(days=3650)  # leaves that outlive the test PKI's default year


@dataclass(frozen=True)
class ProfilePKI:
    """Alice's separate signing and encryption identities, an MDM signer, a rogue one."""

    root: Issued
    intermediate: Issued
    alice_sign: Issued
    alice_enc: Issued
    alice_enc_renewed: Issued
    alice_archived: Issued  # an expired encryption certificate: only for old mail
    alice_both: Issued
    bob: Issued
    mdm_root: Issued
    mdm_signer: Issued  # a TLS server certificate, as MDM servers sign with
    rogue_root: Issued
    rogue_signer: Issued

    def all_identities(self) -> list[Issued]:
        return [
            self.alice_sign,
            self.alice_enc,
            self.alice_enc_renewed,
            self.alice_archived,
            self.alice_both,
            self.bob,
        ]


@functools.cache
def profile_pki() -> ProfilePKI:
    base = standard_pki()
    ca = base.intermediate

    def alice(slot: int, usage: str, cn: str, **kw: Any) -> Issued:
        return make_leaf(ca, "alice@example.com", cn=cn, slot=slot, key_usage=usage, **kw)

    mdm_root = make_ca("Example MDM Root", slot=40)
    rogue_root = make_ca("Rogue Root", slot=42)
    server = [ExtendedKeyUsageOID.SERVER_AUTH]
    return ProfilePKI(
        root=base.root,
        intermediate=ca,
        alice_sign=alice(30, "sign", "Alice (signing)", not_after=LONG),
        alice_enc=alice(31, "encrypt", "Alice (encryption 2026)", not_after=LONG),
        alice_enc_renewed=alice(32, "encrypt", "Alice (encryption 2027)", not_after=LONG),
        alice_archived=alice(
            33,
            "encrypt",
            "Alice (encryption 2023)",
            not_before=NOW - timedelta(days=3 * 365),
            not_after=NOW - timedelta(days=365),
        ),
        alice_both=alice(34, "both", "Alice", not_after=LONG),
        bob=make_leaf(ca, "bob@example.org", cn="Bob", slot=35, key_usage="both", not_after=LONG),
        mdm_root=mdm_root,
        mdm_signer=make_leaf(
            mdm_root, None, cn="mdm.example.com", slot=41, eku=server, not_after=LONG
        ),
        rogue_root=rogue_root,
        rogue_signer=make_leaf(
            rogue_root, None, cn="mdm.example.com", slot=43, eku=server, not_after=LONG
        ),
    )


# ------------------------------------------------------------------ payloads


def pkcs12_payload(
    issued: Issued,
    uuid: str,
    password: str | None = "p12-Secret-8d1c",  # noqa: S107 - a test password
    *,
    extractable: bool | None = None,
    p12_password: str | None = None,
) -> dict[str, Any]:
    """A com.apple.security.pkcs12 payload; ``p12_password`` encrypts it differently from
    the ``Password`` the payload states (a wrong password)."""
    actual = p12_password if p12_password is not None else password
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.security.pkcs12",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"com.example.mdm.pkcs12.{uuid}",
        "PayloadUUID": uuid,
        "PayloadDisplayName": f"Identity {uuid}",
        "PayloadCertificateFileName": f"{uuid}.p12",
        "PayloadContent": issued.p12(actual.encode() if actual else None),
    }
    if password is not None:
        payload["Password"] = password
    if extractable is not None:
        payload["KeyIsExtractable"] = extractable
    return payload


def certificate_payload(cert: x509.Certificate, uuid: str, kind: str = "root") -> dict[str, Any]:
    """com.apple.security.root / pkcs1 (DER) or com.apple.security.pem (PEM)."""
    encoding = Encoding.PEM if kind == "pem" else Encoding.DER
    return {
        "PayloadType": f"com.apple.security.{kind}",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"com.example.mdm.cert.{uuid}",
        "PayloadUUID": uuid,
        "PayloadContent": cert.public_bytes(encoding),
    }


def mail_payload(
    email: str | None = "alice@example.com",
    *,
    signing: str | None = None,
    encryption: str | None = None,
    historic: list[str] | None = None,
    uuid: str = "MAIL-1",
    **extra: Any,
) -> dict[str, Any]:
    """A com.apple.mail.managed IMAP account."""
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"com.example.mdm.mail.{uuid}",
        "PayloadUUID": uuid,
        "PayloadDisplayName": "Work mail",
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAccountName": "Alice Example",
        "EmailAccountDescription": "Example Corp",
        "IncomingMailServerHostName": "imap.example.com",
        "IncomingMailServerPortNumber": 993,
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerUsername": "alice",
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": "smtp.example.com",
        "OutgoingMailServerPortNumber": 587,
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerUsername": "alice",
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "SMIMESigningEnabled": signing is not None,
        "SMIMEEncryptByDefault": encryption is not None,
        "SMIMEEnableEncryptionPerMessageSwitch": True,
    }
    if email is not None:
        payload["EmailAddress"] = email
    if signing is not None:
        payload["SMIMESigningCertificateUUID"] = signing
    if encryption is not None:
        payload["SMIMEEncryptionCertificateUUID"] = encryption
    if historic is not None:
        payload["InboxHistoricEncryptionCertificateUUIDs"] = historic
    payload.update(extra)
    return payload


def eas_payload(
    email: str = "alice@example.com",
    *,
    signing: str | None = None,
    encryption: str | None = None,
    uuid: str = "EAS-1",
) -> dict[str, Any]:
    """A com.apple.eas.account payload."""
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.eas.account",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"com.example.mdm.eas.{uuid}",
        "PayloadUUID": uuid,
        "PayloadDisplayName": "Exchange",
        "EmailAddress": email,
        "Host": "outlook.example.com",
        "SSL": True,
        "UserName": "EXAMPLE\\alice",
        "SMIMESigningEnabled": signing is not None,
        "SMIMEEncryptByDefault": encryption is not None,
    }
    if signing is not None:
        payload["SMIMESigningCertificateUUID"] = signing
    if encryption is not None:
        payload["SMIMEEncryptionCertificateUUID"] = encryption
    return payload


def profile(
    payloads: list[dict[str, Any]],
    *,
    identifier: str = "com.example.mdm.mail",
    uuid: str = "PROFILE-V1",
    name: str = "Example Corp mail",
    binary: bool = False,
    **extra: Any,
) -> bytes:
    """A whole .mobileconfig (XML unless ``binary``)."""
    top: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": uuid,
        "PayloadDisplayName": name,
        "PayloadOrganization": "Example Corp",
        "PayloadContent": payloads,
    }
    top.update(extra)
    return plistlib.dumps(top, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)


def bundle(
    *,
    signing: tuple[Issued, str] | None = None,
    encryption: tuple[Issued, str] | None = None,
    archived: list[tuple[Issued, str]] | None = None,
) -> bytes:
    """The REST upload bundle (JSON)."""

    def entry(item: tuple[Issued, str]) -> dict[str, str]:
        issued, password = item
        return {
            "CertificatePayload": base64.b64encode(issued.p12(password.encode())).decode(),
            "Password": password,
        }

    data: dict[str, Any] = {}
    if signing is not None:
        data["Signing"] = entry(signing)
    if encryption is not None:
        data["Encryption"] = entry(encryption)
    if archived is not None:
        data["Archived"] = [entry(item) for item in archived]
    return json.dumps(data, indent=2).encode()


# ------------------------------------------------------------------ signatures


def engine_sign(signer: Issued, content: bytes) -> bytes:
    """An opaque SignedData (DER) over ``content``, built with the test CMS forge."""
    return cms_forge.forge(signer, content, opaque=True)


def openssl_sign(openssl: str, signer: Issued, content: bytes, directory: Path) -> bytes:
    """``openssl cms -sign -nodetach -binary -outform DER``, as MDM servers do."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "signer.pem").write_bytes(signer.pem())
    (directory / "signer.key").write_bytes(signer.key_pem())
    (directory / "profile.plist").write_bytes(content)
    result = subprocess.run(
        [
            openssl, "cms", "-sign", "-nodetach", "-binary", "-outform", "DER",
            "-signer", str(directory / "signer.pem"), "-inkey", str(directory / "signer.key"),
            "-in", str(directory / "profile.plist"),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    (directory / "signer.key").unlink()
    return result.stdout


def pem_wrap(der: bytes, label: str = "PKCS7") -> bytes:
    body = base64.encodebytes(der)
    return f"-----BEGIN {label}-----\n".encode() + body + f"-----END {label}-----\n".encode()
