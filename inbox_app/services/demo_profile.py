"""The demo's sample configuration profile: what an MDM server would mail a new user.

An Apple ``.mobileconfig`` (Apple, *Configuration Profile Reference*) with two payloads:
a ``com.apple.security.pkcs12`` identity for the demo user and a ``com.apple.security.root``
certificate (the demo root), signed like MDM servers sign them: a CMS SignedData (RFC 5652)
encapsulating the property list, by the server's TLS certificate. The demo home trusts the
demo root as a profile signer, so the reader shows the profile as signed and trusted.
"""

from __future__ import annotations

import plistlib
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from inbox_app.services.demo_pki import DemoPki

PROFILE_IDENTIFIER = "example.inbox.demo.mail"
PROFILE_P12_PASSWORD = "demo-profile"  # noqa: S105 - a demo password, stated in the profile
_PROFILE_UUID = "6B0C7E5A-2F1D-4C8E-9A3B-DE0000000001"
_PKCS12_UUID = "6B0C7E5A-2F1D-4C8E-9A3B-DE0000000002"
_ROOT_UUID = "6B0C7E5A-2F1D-4C8E-9A3B-DE0000000003"


def demo_profile_plist(pki: DemoPki) -> bytes:
    """The unsigned profile (an XML property list)."""
    payloads: list[dict[str, Any]] = [
        {
            "PayloadType": "com.apple.security.pkcs12",
            "PayloadVersion": 1,
            "PayloadIdentifier": f"{PROFILE_IDENTIFIER}.identity",
            "PayloadUUID": _PKCS12_UUID,
            "PayloadDisplayName": "Your S/MIME identity",
            "PayloadCertificateFileName": "you.p12",
            "PayloadContent": pki.you_profile.p12(PROFILE_P12_PASSWORD.encode()),
            "Password": PROFILE_P12_PASSWORD,
            "KeyIsExtractable": False,
        },
        {
            "PayloadType": "com.apple.security.root",
            "PayloadVersion": 1,
            "PayloadIdentifier": f"{PROFILE_IDENTIFIER}.root",
            "PayloadUUID": _ROOT_UUID,
            "PayloadDisplayName": "Inbox Demo Root CA",
            "PayloadContent": pki.root.certificate.public_bytes(Encoding.DER),
        },
    ]
    top: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": PROFILE_IDENTIFIER,
        "PayloadUUID": _PROFILE_UUID,
        "PayloadDisplayName": "Inbox demo: secure mail",
        "PayloadOrganization": "Inbox demo",
        "PayloadDescription": "Your S/MIME certificate and the demo's certificate authority.",
        "PayloadContent": payloads,
    }
    return plistlib.dumps(top, fmt=plistlib.FMT_XML)


def demo_profile(pki: DemoPki) -> bytes:
    """The signed profile: DER SignedData with the property list inside."""
    signer = pki.profile_signer
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(demo_profile_plist(pki))
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
        .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
