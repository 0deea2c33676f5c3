"""The public interop corpus (../shared/interop) under Inbox's verification policy.

Every *signed* message or CMS object in the corpus gets a test asserting the outcome our
engine must give, at a pinned verification time (never the real clock). The corpus's
MANIFEST.tsv records Thunderbird's expectation and what OpenSSL 3.0 did; where our stricter
policy gives a different answer, the case's ``why`` says so and why.

Covered here:

* MIME messages (Thunderbird/NSS, hand-made nesting cases, browser tests, the expired 2019
  set, RFC 4134 4.8/4.9, PKITS, pyca, MimeKit) through :func:`open_message`: the message's
  status, each root layer's status, sender binding, and warnings.
* Raw CMS SignedData (RFC 4134 4.x, LAMPS samples, the 2019 detached/opaque objects) through
  :func:`verify_signed_data`.
* Messages whose root layer is encrypted: decryption is not implemented yet, so we assert only
  that the layer is recognised, decryption is reported as failed, and nothing is reported valid.
* Every PKCS#12 file loads with its password, and a wrong password raises IdentityError.
* A completeness check: every signed object or message file in the MANIFEST has a case here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from inbox_app.smime import (
    EncryptionStatus,
    IdentityError,
    MalformedError,
    SignatureStatus,
    SignatureVerificationError,
    TrustStore,
    VerifiedSignature,
    load_certificates,
    load_identity,
    open_message,
    verify_signed_data,
)

pytestmark = pytest.mark.corpus

S = SignatureStatus
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # inside every current validity window (TB: ..2031-01-26)
AT_2019 = datetime(2019, 12, 1, tzinfo=UTC)  # the expired-2019 set (certs valid 2019-07..2024-07)
AT_2013 = datetime(2013, 11, 2, tzinfo=UTC)  # MimeKit's TB 24 message (cert from 2013-10-31)

HASHES = ("SHA1", "SHA256", "SHA384", "SHA512")
ALICE_TEXT = b"This is a test message from Alice to Bob."
EX_CONTENT = "rfc4134/ExContent.bin"

ANCHORS: dict[str, tuple[str, ...]] = {
    "tb": ("thunderbird/nss-smime/TestCA.pem",),
    "tb2019": ("thunderbird/expired-2019/TestCA.pem",),
    "rfc4134": ("rfc4134/CarlRSASelf.cer", "rfc4134/CarlDSSSelf.cer"),
    "lamps": (
        "lamps-cms-examples/Sample_LAMPS_RSA_Certification_Authority.selfsigned.pem",
        "lamps-cms-examples/Sample_LAMPS_Ed25519_Certification_Authority.selfsigned.pem",
    ),
    "startcom": (
        "mimekit/StartComCertificationAuthority.crt",
        "mimekit/StartComClass1PrimaryIntermediateClientCA.crt",
    ),
    "pkits": ("pkits/TrustAnchorRootCertificate.crt",),
    "none": (),  # pyca/signed-opaque.msg: its CA is not in the corpus
}

SHA1_WHY = "SHA-1 is weak, never valid (OpenSSL: VERIFY_OK; TB: sig_good=false as well)"
SHA1_SENDER_WHY = "both layers weak (SHA-1); the From/signer mismatch makes it invalid"
DAVE_WHY = (
    "From is Dave but the inner layer is Alice's: every root signer must match the From "
    "address, so invalid with sender_match False (OpenSSL: both layers VERIFY_OK; TB: "
    "sig_good=false, except true for opaque-over-opaque SHA-2)"
)
LF_WHY = (
    "NSS signed the enveloped part with LF line endings but the stored message is CRLF, so "
    "the clear signature over the canonical form fails (OpenSSL: SIG_FAIL too; TB ignores a "
    "signature over an encryption layer, bug 1806161)"
)
NO_SIGNED_ATTRS_WHY = "no signedAttrs: our policy requires them, so error (OpenSSL: verifies)"


def _status(hash_name: str) -> SignatureStatus:
    return S.WEAK if hash_name == "SHA1" else S.VALID


# --------------------------------------------------------------------------- fixtures


@cache
def _trust(interop: Path, name: str) -> TrustStore:
    certs = []
    for relative in ANCHORS[name]:
        certs.extend(load_certificates((interop / relative).read_bytes()))
    return TrustStore(certs)


# --------------------------------------------------------------------- MIME messages


@dataclass(frozen=True)
class Msg:
    """A signed (or root-signature-bearing) message and what ``open_message`` must report."""

    path: str
    signature: SignatureStatus
    layers: tuple[str, ...] = ()  # report.layers, outermost first
    statuses: tuple[SignatureStatus, ...] = ()  # each signed layer's status, outermost first
    sender_match: bool | None = True
    anchors: str = "tb"
    now: datetime = NOW
    warning: str | None = None  # a substring of one of report.warnings
    error: str | None = None  # a substring of report.error
    why: str = ""  # where and why we differ from OpenSSL 3.0 / Thunderbird
    xfail: str | None = None  # engine bug: the reason for a strict xfail


def _tb(name: str) -> str:
    return f"thunderbird/nss-smime/{name}"


def _messages() -> list[Msg]:
    cases: list[Msg] = []
    for h in HASHES:
        ok = _status(h)
        sha1 = SHA1_WHY if h == "SHA1" else ""
        for name, kind in (
            (f"alice.dsig.{h}.multipart.eml", "signed"),
            (f"alice.sig.{h}.opaque.eml", "signed-opaque"),
            (f"alice.html.sig.{h}.opaque.eml", "signed-opaque"),
        ):
            cases.append(Msg(_tb(name), ok, (kind,), (ok,), why=sha1))
        cases.append(
            Msg(
                _tb(f"alice.dsig.{h}.multipart.bad.eml"),
                S.INVALID,
                ("signed",),
                (S.INVALID,),
                error="digest mismatch",
            )
        )
        cases.append(
            Msg(
                _tb(f"alice.dsig.{h}.multipart.mismatch-econtent.eml"),
                S.ERROR,
                ("signed",),
                sender_match=None,
                error="eContent",
                why="eContent inside multipart/signed is a structural error, not just a bad "
                "signature (OpenSSL: SIG_FAIL; TB: sig_good=false)",
            )
        )
        cases.append(
            Msg(
                _tb(f"alice.env.dsig.{h}.multipart.eml"),
                S.INVALID,
                ("signed", "encrypted"),
                (S.INVALID,),
                error="digest mismatch",
                why=LF_WHY,
            )
        )
        cases.append(
            Msg(
                _tb(f"alice.env.dsig.{h}.multipart.dave.sig.{h}.opaque.eml"),
                S.INVALID,
                ("signed-opaque", "signed", "encrypted"),
                (ok, ok),
                sender_match=False,
                error="not by the sender",
                why="inside Dave's eContent Alice's clear-signed entity has the LF endings NSS "
                "signed and is verified as received, so both layers verify (OpenSSL: Alice "
                "SIG_FAIL without -binary); " + (SHA1_SENDER_WHY if h == "SHA1" else DAVE_WHY),
            )
        )
        cases.append(
            Msg(
                _tb(f"alice.env.sig.{h}.opaque.eml"),
                ok,
                ("signed-opaque", "encrypted"),
                (ok,),
                why="the opaque signature covers the whole (encrypted) message, so it counts; TB "
                "ignores a signature over an encryption layer (bug 1806161: sig=false). "
                "Decryption is not implemented yet. " + sha1,
            )
        )
        cases.append(
            Msg(
                _tb(f"alice.env.sig.{h}.opaque.dave.sig.{h}.opaque.eml"),
                S.INVALID,
                ("signed-opaque", "signed-opaque", "encrypted"),
                (ok, ok),
                sender_match=False,
                error="not by the sender",
                why=SHA1_SENDER_WHY if h == "SHA1" else DAVE_WHY,
            )
        )
        for alice in ("dsig", "sig"):
            for dave in ("dsig", "sig"):
                alice_kind = "signed" if alice == "dsig" else "signed-opaque"
                dave_kind = "signed" if dave == "dsig" else "signed-opaque"
                alice_form = "multipart" if alice == "dsig" else "opaque"
                dave_form = "multipart" if dave == "dsig" else "opaque"
                cases.append(
                    Msg(
                        _tb(
                            f"alice.plain.{alice}.{h}.{alice_form}.dave.{dave}.{h}.{dave_form}.eml"
                        ),
                        S.INVALID,
                        (dave_kind, alice_kind),
                        (ok, ok),
                        sender_match=False,
                        error="not by the sender",
                        why=SHA1_SENDER_WHY if h == "SHA1" else DAVE_WHY,
                    )
                )
    cases.append(
        Msg(
            _tb("alice.future.dsig.SHA256.multipart.eml"),
            S.VALID,
            ("signed",),
            (S.VALID,),
            warning="differs from the signing time",
            why="Date is 6 h after signingTime: TB rejects it, we only warn (RFC 9788 §4); "
            "OpenSSL: VERIFY_OK",
        )
    )

    manual = "thunderbird/smime-manual/"
    outer_bad_why = (
        "the outer clear signature over the encrypted layer fails; TB ignores such an outer "
        "signature (bug 1806161) and reports the inner one, we report the root layer"
    )
    cases += [
        Msg(
            manual + "alice.dsig.SHA256.multipart.env.dsig.eml",
            S.INVALID,
            ("signed", "encrypted"),
            (S.INVALID,),
            error="digest mismatch",
            why=outer_bad_why + " (TB: sig_good=true)",
        ),
        Msg(
            manual + "outer-smime-bad-sig-inner-smime-enc-sig.eml",
            S.INVALID,
            ("signed", "encrypted"),
            (S.INVALID,),
            error="digest mismatch",
            why=outer_bad_why + " (TB: sig_good=true)",
        ),
        Msg(
            manual + "outer-smime-bad-sig-inner-smime-enc.eml",
            S.INVALID,
            ("signed", "encrypted"),
            (S.INVALID,),
            error="digest mismatch",
            why=outer_bad_why + " (TB: sig=false)",
        ),
        Msg(
            manual + "alice.env.mixed.dsig.SHA256.multipart.eml",
            S.INVALID,
            ("signed",),
            (S.INVALID,),
            error="digest mismatch",
        ),
        Msg(
            manual + "outer-pgp-sig-inner-smime-enc-sig.eml",
            S.UNSIGNED,
            sender_match=None,
            warning="pgp-signature signature was not checked",
            why="only the MIME root counts: a PGP root signature is not checked and the S/MIME "
            "inside it is not unwrapped (TB handles the inner S/MIME)",
        ),
        Msg(
            manual + "outer-pgp-sig-inner-smime-enc.eml",
            S.UNSIGNED,
            sender_match=None,
            warning="pgp-signature signature was not checked",
            why="only the MIME root counts (TB handles the inner S/MIME)",
        ),
    ]

    browser = "thunderbird/browser-smime/"
    in_mixed_why = (
        "a signed part inside multipart/mixed (mailing-list footer) is not a root layer: "
        "unsigned plus a warning (TB renders it as signed; OpenSSL verifies the part)"
    )
    cases += [
        Msg(
            browser + "alice.dsig.SHA256.multipart.in.mixed.eml",
            S.UNSIGNED,
            sender_match=None,
            warning="does not cover the whole message",
            why=in_mixed_why,
        ),
        Msg(
            browser + "alice.dsig.SHA256.multipart.in.mixed.with.header.eml",
            S.UNSIGNED,
            sender_match=None,
            warning="does not cover the whole message",
            why=in_mixed_why,
        ),
        Msg(
            browser + "multipart-alternative.eml",
            S.UNSIGNED,
            sender_match=None,
            warning="does not cover the whole message",
            why="EFAIL: encrypted parts below the root are never decrypted automatically",
        ),
        Msg(
            browser + "alice.html.sig.SHA256.opaque.eml",
            S.UNTRUSTED,
            ("signed-opaque",),
            (S.UNTRUSTED,),
            error="no path to a trusted certificate authority",
            why="its embedded Alice certificate is not signed by the committed TestCA "
            "(OpenSSL: CHAIN_FAIL; TB only checks rendering)",
        ),
        Msg(
            browser + "nested-sigs.eml",
            S.INVALID,
            ("signed",),
            (S.INVALID,),
            sender_match=False,
            error="digest mismatch",
            why="the outer signature does not verify, and its signer (kaie@...) is not the "
            "From address nobody1@example.com",
        ),
    ]

    expired = "thunderbird/expired-2019/"
    expired_why = "signer's certificate expired 2024-07-03 (OpenSSL: CHAIN_FAIL, expired)"
    for name, kind, at_2019 in (
        ("alice.dsig.SHA256.multipart.eml", "signed", S.VALID),
        ("alice.sig.SHA256.opaque.eml", "signed-opaque", S.VALID),
        ("alice.sig.SHA1.opaque.eml", "signed-opaque", S.WEAK),
    ):
        now_why = expired_why + ("; expired outranks weak (SHA-1)" if at_2019 is S.WEAK else "")
        cases.append(
            Msg(
                expired + name,
                S.EXPIRED,
                (kind,),
                (S.EXPIRED,),
                anchors="tb2019",
                error="expired on 2024-07-03",
                why=now_why,
            )
        )
        cases.append(
            Msg(
                expired + name,
                at_2019,
                (kind,),
                (at_2019,),
                anchors="tb2019",
                now=AT_2019,
                why="valid at signing time (2019)" + ("; " + SHA1_WHY if at_2019 is S.WEAK else ""),
            )
        )
    for when in (NOW, AT_2019):
        cases.append(
            Msg(
                expired + "alice.dsig.SHA256.multipart.bad.eml",
                S.INVALID,
                ("signed",),
                (S.INVALID,),
                anchors="tb2019",
                now=when,
                error="digest mismatch",
            )
        )

    cases += [
        Msg(
            f"rfc4134/{n}.eml",
            S.ERROR,
            (kind,),
            sender_match=None,
            anchors="rfc4134",
            error="no signed attributes",
            why=NO_SIGNED_ATTRS_WHY,
        )
        for n, kind in (("4.8", "signed"), ("4.9", "signed-opaque"))
    ]

    no_address = (
        "PKITS certificates carry no mail address, so the message is invalid with "
        "sender_match False whatever the path; the layer status is the PKITS verdict"
    )
    cases += [
        Msg(
            "pkits/SignedValidSignaturesTest1.eml",
            S.INVALID,
            ("signed",),
            (S.VALID,),
            sender_match=False,
            anchors="pkits",
            error="without an address",
            why=no_address,
        ),
        Msg(
            "pkits/SignedInvalidCASignatureTest2.eml",
            S.INVALID,
            ("signed",),
            (S.UNTRUSTED,),
            sender_match=False,
            anchors="pkits",
            error="without an address",
            why=no_address + " (bad CA signature: no path)",
        ),
        Msg(
            "pkits/SignedInvalidEEnotAfterDateTest6.eml",
            S.INVALID,
            ("signed",),
            (S.EXPIRED,),
            sender_match=False,
            anchors="pkits",
            error="without an address",
            why=no_address + " (EE expired 2011)",
        ),
        Msg(
            "pkits/SignedInvalidRevokedEETest3.eml",
            S.INVALID,
            ("signed",),
            (S.INVALID,),
            sender_match=False,
            anchors="pkits",
            error="has been revoked",
            why="we check the CRLs embedded in the message (OpenSSL: VERIFY_OK unless "
            "-crl_check_all)",
        ),
        Msg(
            "pyca/signed-opaque.msg",
            S.ERROR,
            ("signed-opaque",),
            sender_match=None,
            anchors="none",
            error="no content",
            why="labelled signed-data but has no eContent: malformed, must not crash "
            "(OpenSSL: 'no content')",
        ),
    ]

    cases += [
        Msg(
            "mimekit/thunderbird-signed.txt",
            S.WEAK,
            ("signed",),
            (S.WEAK,),
            anchors="startcom",
            now=AT_2013,
            why="real Thunderbird 24 message: SHA-1 signature and SHA-1-signed certificate, "
            "chain valid at 2013-11-02 → weak (OpenSSL -attime: VERIFY_OK)",
        ),
        Msg(
            "mimekit/thunderbird-signed.txt",
            S.EXPIRED,
            ("signed",),
            (S.EXPIRED,),
            anchors="startcom",
            error="expired on 2014-11-01",
            why="the signer's certificate expired 2014-11-01 (OpenSSL: certificate has expired)",
        ),
    ]
    return cases


def _msg_id(case: Msg) -> str:
    name = case.path.removeprefix("thunderbird/")
    suffix = "" if case.now is NOW else f"@{case.now:%Y}"
    return f"{name}{suffix}->{case.signature.value}"


def _params(cases: list[Msg]) -> list[object]:
    params = []
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=_msg_id(case), marks=marks))
    return params


MESSAGES = _messages()


@pytest.mark.parametrize("case", _params(MESSAGES))
def test_signed_message(interop: Path, case: Msg) -> None:
    raw = (interop / case.path).read_bytes()
    report = open_message(raw, trust=_trust(interop, case.anchors), now=case.now)

    assert report.signature is case.signature, (report.error, case.why)
    assert report.layers == list(case.layers)
    signed_kinds = [kind for kind in case.layers if kind != "encrypted"]
    if case.signature is S.ERROR:
        signed_kinds = signed_kinds[:-1]  # the layer that is malformed has no verdict
    assert [layer.kind for layer in report.signed_layers] == signed_kinds
    assert [layer.status for layer in report.signed_layers] == list(case.statuses)
    assert report.sender_match is case.sender_match
    if case.warning is not None:
        assert any(case.warning in warning for warning in report.warnings), report.warnings
    if case.error is not None:
        assert report.error is not None
        assert case.error in report.error
    if "encrypted" in case.layers:
        assert report.encryption is EncryptionStatus.FAILED
    if case.signature is S.ERROR:
        assert report.inner is None  # nothing of a malformed message is displayable
    # A message is only "ok" when every root layer is valid and from the sender.
    expected_ok = case.signature is S.UNSIGNED or (
        case.signature is S.VALID and "encrypted" not in case.layers
    )
    assert report.ok is expected_ok
    if case.signature is S.VALID and "encrypted" not in case.layers:
        assert report.inner is not None
        assert ALICE_TEXT in report.inner
        assert all(layer.signer is not None for layer in report.signed_layers)
        assert report.signers[0].addresses == ("Alice@example.com",)


# ------------------------------------------------------------ encrypted root layers


ENCRYPTED = [
    *[_tb(f"alice.dsig.{h}.multipart.env.eml") for h in HASHES],
    *[_tb(f"alice.sig.{h}.opaque.env.eml") for h in HASHES],
    *[_tb(f"alice.html.sig.{h}.opaque.env.eml") for h in HASHES],
    _tb("alice.env.eml"),
    "thunderbird/expired-2019/alice.env.eml",
    "thunderbird/expired-2019/alice.sig.SHA256.opaque.env.eml",
    "thunderbird/expired-2019/alice.dsig.SHA256.multipart.env.eml",
    "thunderbird/smime-interop/fran-ec_ossl-aes128-sha256.env",
    "thunderbird/smime-interop/fran-ec_ossl-aes256-sha512.env",
    "thunderbird/smime-interop/fran-oaep-label_ossl.env",
    "thunderbird/smime-interop/fran-oaep-sha256hash-sha256mgf_ossl.env",
    "thunderbird/smime-interop/fran-oaep-sha256hash_ossl.env",
    "thunderbird/smime-interop/fran-oaep_ossl.env",
    "rfc4134/5.3.eml",
]


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.removeprefix("thunderbird/")) for p in ENCRYPTED]
)
def test_encrypted_root_is_not_reported_valid(interop: Path, path: str) -> None:
    # Decryption is not implemented yet (a later issue adds it): the signatures inside
    # these messages must not be reported as anything, let alone valid.
    anchors = "tb2019" if "expired-2019" in path else "tb"
    report = open_message((interop / path).read_bytes(), trust=_trust(interop, anchors), now=NOW)
    assert report.layers[0] == "encrypted"
    assert report.encryption.value == "failed"
    assert report.signature is not S.VALID
    assert all(layer.status is not S.VALID for layer in report.signed_layers)
    assert not report.ok


# ---------------------------------------------------------------- raw CMS SignedData


@dataclass(frozen=True)
class Raw:
    """A CMS SignedData object (not MIME) and what ``verify_signed_data`` must do."""

    path: str
    outcome: SignatureStatus | type[Exception]  # VALID: returns; else raises that status/type
    anchors: str
    detached: str | None = None  # the file holding the detached content
    extra: tuple[str, ...] = ()  # extra_certificates (never anchors)
    now: datetime = NOW
    address: str | None = None  # the signer's address when valid
    digest: str | None = None
    content: str | None = None  # the file holding the content an opaque signature must return
    message: str | None = None  # a substring of the error message
    why: str = ""


LAMPS = "lamps-cms-examples/"
RAW: list[Raw] = [
    Raw(
        "rfc4134/4.1.bin",
        MalformedError,
        "rfc4134",
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + "; DSA-1024/SHA-1 would be weak anyway",
    ),
    Raw(
        "rfc4134/4.2.bin",
        MalformedError,
        "rfc4134",
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + "; RSA-1024/SHA-1 would be weak anyway",
    ),
    Raw(
        "rfc4134/4.3.bin",
        MalformedError,
        "rfc4134",
        detached=EX_CONTENT,
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + " (detached over ExContent)",
    ),
    Raw(
        "rfc4134/4.4.bin",
        S.WEAK,
        "rfc4134",
        message="DSA key of 1024 bits",
        why="SHA-1 and DSA-1024 keys are weak, never valid (OpenSSL: VERIFY_OK)",
    ),
    Raw(
        "rfc4134/4.5.bin",
        MalformedError,
        "rfc4134",
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + "; RSA-1024/SHA-1 would be weak anyway",
    ),
    Raw(
        "rfc4134/4.6.bin",
        MalformedError,
        "rfc4134",
        message="2 signers",
        why="two SignerInfos: we require exactly one (RFC: both valid; OpenSSL fails on "
        "Diane's inherited DSA parameters)",
    ),
    Raw(
        "rfc4134/4.7.bin",
        MalformedError,
        "rfc4134",
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + " (SKI signer identifier)",
    ),
    Raw(
        "rfc4134/4.10.bin",
        S.WEAK,
        "rfc4134",
        message="SHA1",
        why="despite the README/MANIFEST ('zero signers'), 4.10 is RFC 4134 §4.10 'SignedData "
        "with attributes': ONE DSA-1024/SHA-1 signer, so weak (OpenSSL: VERIFY_OK)",
    ),
    Raw(
        "rfc4134/4.11.bin",
        MalformedError,
        "rfc4134",
        message="no signer",
        why="the real zero-signer object (certs-only, no content): never shown as signed "
        "(OpenSSL -verify: 'no content')",
    ),
    Raw(
        LAMPS + "signedByAliceRSA.p7m",
        MalformedError,
        "lamps",
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY,
    ),
    Raw(
        LAMPS + "signedByAliceRSAPSS.p7m",
        S.VALID,
        "lamps",
        address="alice@smime.example",
        digest="sha256",
        content=EX_CONTENT,
    ),
    Raw(
        LAMPS + "signedByCarlosEd25519.p7m",
        S.VALID,
        "lamps",
        address="carlos@smime.example",
        digest="sha512",
        content=EX_CONTENT,
        why="OpenSSL 3.0 cannot verify Ed25519 SignedData; valid per pyca",
    ),
    Raw(
        LAMPS + "signedByCarlosDetached.p7m",
        MalformedError,
        "lamps",
        detached=EX_CONTENT,
        message="no signed attributes",
        why=NO_SIGNED_ATTRS_WHY + " (OpenSSL: Ed25519 unsupported; valid per pyca)",
    ),
    Raw(
        LAMPS + "signedByAliceAndCarlosNoCerts.p7m",
        MalformedError,
        "lamps",
        extra=(LAMPS + "lamps-alice.crt", LAMPS + "lamps-carlos.crt"),
        message="2 signers",
        why="two SignerInfos: we require exactly one (OpenSSL fails on Ed25519; both valid "
        "per pyca)",
    ),
]
for _when in (NOW, AT_2019):
    _expired_outcome = S.EXPIRED if _when is NOW else S.VALID
    RAW += [
        Raw(
            "thunderbird/expired-2019/alice.mime.dsig.SHA256",
            _expired_outcome,
            "tb2019",
            detached="thunderbird/expired-2019/alice.mime",
            now=_when,
            address="Alice@example.com",
            digest="sha256",
            why="expired 2024-07-03, valid at signing time",
        ),
        Raw(
            "thunderbird/expired-2019/alice.textplain.sig.SHA256",
            _expired_outcome,
            "tb2019",
            now=_when,
            address="Alice@example.com",
            digest="sha256",
            content="thunderbird/expired-2019/alice.textplain",
            why="expired 2024-07-03, valid at signing time",
        ),
    ]


def _raw_id(case: Raw) -> str:
    outcome = case.outcome.value if isinstance(case.outcome, S) else case.outcome.__name__
    suffix = "" if case.now is NOW else f"@{case.now:%Y}"
    return f"{case.path.removeprefix('thunderbird/')}{suffix}->{outcome}"


@pytest.mark.parametrize("case", [pytest.param(c, id=_raw_id(c)) for c in RAW])
def test_raw_signed_data(interop: Path, case: Raw) -> None:
    der = (interop / case.path).read_bytes()
    detached = (interop / case.detached).read_bytes() if case.detached else None
    extra = [cert for p in case.extra for cert in load_certificates((interop / p).read_bytes())]

    def verify() -> VerifiedSignature:
        return verify_signed_data(
            der,
            detached_content=detached,
            trust=_trust(interop, case.anchors),
            now=case.now,
            extra_certificates=extra,
        )

    if isinstance(case.outcome, type):
        with pytest.raises(case.outcome) as raised:
            verify()
        assert case.message is None or case.message in str(raised.value)
        return
    if case.outcome is not S.VALID:
        with pytest.raises(SignatureVerificationError) as failed:
            verify()
        assert failed.value.status is case.outcome, (str(failed.value), case.why)
        assert case.message is None or case.message in str(failed.value)
        return
    verified = verify()
    assert verified.signer.addresses == (case.address,)
    assert verified.digest == case.digest
    content_file = case.detached or case.content
    assert content_file is not None
    assert verified.content == (interop / content_file).read_bytes()


# --------------------------------------------------------------------------- PKCS#12


P12 = [
    ("thunderbird/nss-smime/Alice.p12", b"nss", "Alice@example.com"),
    ("thunderbird/nss-smime/Alice-ec.p12", b"nss", "Alice-ec@example.com"),
    ("thunderbird/nss-smime/Bob.p12", b"nss", "Bob@example.com"),
    ("thunderbird/nss-smime/Dave.p12", b"nss", "Dave@example.com"),
    ("thunderbird/nss-smime/Eve.p12", b"nss", "Eve@example.com"),
    ("thunderbird/smime-interop/Fran.p12", b"nss", "Fran@example.com"),
    ("thunderbird/smime-interop/Fran-ec.p12", b"nss", "Fran-ec@example.com"),
    # Legacy pbeWithSHA1And40BitRC2 with an empty password.
    ("thunderbird/expired-2019/Alice.p12", b"", "Alice@example.com"),
    ("thunderbird/expired-2019/Bob.p12", b"", "Bob@example.com"),
]


@pytest.mark.parametrize(
    ("path", "password", "address"),
    [pytest.param(*row, id=row[0].removeprefix("thunderbird/")) for row in P12],
)
def test_pkcs12_loads(interop: Path, path: str, password: bytes, address: str) -> None:
    identity = load_identity((interop / path).read_bytes(), password)
    assert f"1.2.840.113549.1.9.1={address}," in identity.certificate.subject.rfc4514_string()


@pytest.mark.parametrize(
    ("path", "password"),
    [pytest.param(path, pw, id=path.removeprefix("thunderbird/")) for path, pw, _ in P12],
)
def test_pkcs12_wrong_password(interop: Path, path: str, password: bytes) -> None:
    with pytest.raises(IdentityError):
        load_identity((interop / path).read_bytes(), password + b"-wrong")


# ------------------------------------------------------------------------ completeness

_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_MESSAGE_SUFFIXES = (".eml", ".env", ".msg")


def test_every_signed_item_in_the_manifest_has_a_case(interop: Path) -> None:
    with (interop / "MANIFEST.tsv").open(newline="", encoding="utf-8") as manifest:
        paths = [row["file"] for row in csv.DictReader(manifest, delimiter="\t")]
    covered = {case.path for case in MESSAGES} | {case.path for case in RAW} | set(ENCRYPTED)
    missing = []
    for path in paths:
        data = (interop / path).read_bytes()
        is_der = data[:1] == b"\x30"  # e.g. expired-2019/alice.mime.env is raw EnvelopedData
        is_message = not is_der and (path.endswith(_MESSAGE_SUFFIXES) or b"pkcs7-sig" in data)
        is_signed_data = _SIGNED_DATA_OID in data[:32]
        if (is_message or is_signed_data) and path not in covered:
            missing.append(path)
    assert missing == []
    assert {p for p, _, _ in P12} == {p for p in paths if p.endswith(".p12")}
