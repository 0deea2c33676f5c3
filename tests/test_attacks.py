"""The S/MIME attacks of "Johnny, you are fired!" (Müller et al., USENIX Security 2019).

Each class of the paper is re-created with the test PKI and must end in the right status:

* §4 CMS attacks (eContent confusion, multiple signers, no signers, unsigned attributes,
  mismatched content types, missing or swapped certificates) -> ``error``/``invalid``.
* §5 GUI spoofing ("UI redressing"): what is shown comes from the certificate, never from the
  message; an unsigned message that *claims* to be signed stays ``unsigned``.
* §6 MIME wrapping: a valid signed part that does not wrap the whole message (mixed,
  attachment, alternative, related/cid:, message/rfc822) is never checked -> ``unsigned``.
* §7 ID attacks: the signer is bound to the single addr-spec of the single From field
  (RFC 8550 §3); display names, Sender, Reply-To and encoded words do not count.

Plus the certificate-path and canonicalisation cases an S/MIME reader must get right
(RFC 5280 §6, RFC 8550 §4.4, RFC 8551 §3.1.1) and a few denial-of-service shapes.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from asn1crypto import cms
from cryptography.x509.oid import ExtendedKeyUsageOID

from inbox_app.cli.smime_commands import describe
from inbox_app.smime import Report, SignatureStatus, TrustStore, open_message, sign_message
from tests import cms_forge as forge
from tests.pki import NOW, Issued, StandardPKI, make_ca, make_leaf, message

VALID = SignatureStatus.VALID
INVALID = SignatureStatus.INVALID
ERROR = SignatureStatus.ERROR
UNSIGNED = SignatureStatus.UNSIGNED
UNTRUSTED = SignatureStatus.UNTRUSTED


@pytest.fixture(scope="module")
def trust(pki: StandardPKI) -> TrustStore:
    return TrustStore([pki.root.cert])


@pytest.fixture(scope="module")
def eve(pki: StandardPKI) -> Issued:
    """An attacker with a perfectly good certificate for her own address."""
    return make_leaf(pki.intermediate, "eve@evil.example", cn="Eve", slot=5)


@pytest.fixture(scope="module")
def signed_by_alice(pki: StandardPKI) -> bytes:
    return sign_message(message(), pki.alice.identity, now=NOW)


@pytest.fixture(scope="module")
def opaque_by_alice(pki: StandardPKI) -> bytes:
    return sign_message(message(), pki.alice.identity, now=NOW, opaque=True)


def open_(raw: bytes, trust: TrustStore) -> Report:
    report = open_message(raw, trust=trust, now=NOW)
    if report.error is not None:
        assert "\n" not in report.error
    return report


def assert_error(report: Report) -> None:
    assert report.signature is ERROR, report
    assert report.error
    assert report.inner is None
    assert not report.ok


def body_of(signed: bytes) -> bytes:
    """The entity of a message made by sign_message: its Content-* fields and body."""
    return signed.partition(b"MIME-Version: 1.0\r\n")[2]


# ------------------------------------------------------------------------------ §4 CMS


class TestCmsAttacks:
    def test_forged_baseline_is_valid(self, pki: StandardPKI, trust: TrustStore) -> None:
        # The forging helpers themselves produce good signatures: the attacks below fail
        # because of what they change, not because the forge is broken.
        detached = open_(forge.multipart_signed(forge.forge(pki.alice)), trust)
        opaque = open_(forge.opaque_signed(forge.forge(pki.alice, opaque=True)), trust)
        assert detached.signature is VALID
        assert opaque.signature is VALID

    def test_econtent_confusion(self, pki: StandardPKI, trust: TrustStore) -> None:
        # A detached signature that also carries (signed) content of its own: one client
        # shows the MIME part, another the eContent. Neither may be shown.
        evil = b"Content-Type: text/plain\r\n\r\nPlease wire 1,000,000 EUR to Eve.\r\n"
        info = forge.signer_info(pki.alice, evil)
        der = forge.signed_data(
            [info], certificates=[pki.alice.cert, pki.intermediate.cert], econtent=evil
        )
        report = open_(forge.multipart_signed(der), trust)
        assert_error(report)
        assert "eContent" in report.error

    def test_econtent_confusion_both_signed(self, pki: StandardPKI, trust: TrustStore) -> None:
        info = forge.signer_info(pki.alice, forge.ENTITY)
        der = forge.signed_data(
            [info], certificates=[pki.alice.cert, pki.intermediate.cert], econtent=forge.ENTITY
        )
        assert_error(open_(forge.multipart_signed(der), trust))

    @pytest.mark.parametrize("alice_first", [True, False])
    def test_two_signer_infos(
        self, pki: StandardPKI, eve: Issued, trust: TrustStore, alice_first: bool
    ) -> None:
        alice = forge.signer_info(pki.alice, forge.ENTITY)
        attacker = forge.signer_info(eve, forge.ENTITY)
        signers = [alice, attacker] if alice_first else [attacker, alice]
        der = forge.signed_data(
            signers, certificates=[pki.alice.cert, eve.cert, pki.intermediate.cert]
        )
        assert_error(open_(forge.multipart_signed(der), trust))

    @pytest.mark.parametrize("opaque", [False, True])
    def test_zero_signers(self, pki: StandardPKI, trust: TrustStore, opaque: bool) -> None:
        der = forge.signed_data(
            [],
            certificates=[pki.alice.cert, pki.intermediate.cert],
            econtent=forge.ENTITY if opaque else None,
        )
        raw = forge.opaque_signed(der) if opaque else forge.multipart_signed(der)
        assert_error(open_(raw, trust))

    @pytest.mark.parametrize("opaque", [False, True])
    def test_no_signed_attributes(self, pki: StandardPKI, trust: TrustStore, opaque: bool) -> None:
        # Legal CMS (the signature then covers the content directly), but S/MIME requires
        # signed attributes (RFC 8551 §2.5) and without them there is no contentType binding.
        der = forge.forge(pki.alice, opaque=opaque, with_signed_attrs=False)
        raw = forge.opaque_signed(der) if opaque else forge.multipart_signed(der)
        assert_error(open_(raw, trust))

    @pytest.mark.parametrize("attr", ["signed_data", "1.3.6.1.4.1.99999.1", None])
    def test_content_type_attribute_mismatch(
        self, pki: StandardPKI, trust: TrustStore, attr: str | None
    ) -> None:
        der = forge.forge(pki.alice, content_type_attr=attr)
        assert_error(open_(forge.multipart_signed(der), trust))

    def test_non_data_econtent_type(self, pki: StandardPKI, trust: TrustStore) -> None:
        oid = "1.3.6.1.4.1.99999.1"
        info = forge.signer_info(pki.alice, forge.ENTITY, content_type_attr=oid)
        der = forge.signed_data(
            [info],
            certificates=[pki.alice.cert, pki.intermediate.cert],
            econtent=forge.ENTITY,
            econtent_type=oid,
        )
        report = open_(forge.opaque_signed(der), trust)
        assert_error(report)
        assert "not MIME" in report.error

    def test_opaque_without_econtent(self, pki: StandardPKI, trust: TrustStore) -> None:
        report = open_(forge.opaque_signed(forge.forge(pki.alice, opaque=False)), trust)
        assert_error(report)

    @pytest.mark.parametrize("opaque", [False, True])
    def test_signer_certificate_missing(
        self, pki: StandardPKI, trust: TrustStore, opaque: bool
    ) -> None:
        der = forge.forge(pki.alice, opaque=opaque, certificates=[pki.intermediate.cert])
        raw = forge.opaque_signed(der) if opaque else forge.multipart_signed(der)
        report = open_(raw, trust)
        assert_error(report)
        assert report.signers == []

    def test_signer_certificate_swapped(
        self, pki: StandardPKI, eve: Issued, trust: TrustStore
    ) -> None:
        # Alice's signature, but the certificate that answers to her issuer/serial is Eve's
        # key: the signature cannot verify.
        fake = forge.same_claim_certificate(pki.alice.cert, eve)
        der = forge.forge(pki.alice, certificates=[fake, pki.intermediate.cert])
        report = open_(forge.multipart_signed(der), trust)
        assert report.signature is not VALID
        assert report.signature in (INVALID, UNTRUSTED, ERROR)

    def test_signer_certificate_swapped_and_resigned(
        self, pki: StandardPKI, eve: Issued, trust: TrustStore
    ) -> None:
        # Eve signs with her key and ships a certificate claiming Alice's issuer and serial:
        # the signature verifies, but the certificate does not chain to the real CA.
        fake = forge.same_claim_certificate(pki.alice.cert, eve)
        der = forge.forge(eve, sid_cert=pki.alice.cert, certificates=[fake, pki.intermediate.cert])
        report = open_(forge.multipart_signed(der), trust)
        assert report.signature is UNTRUSTED
        assert not report.ok

    @pytest.mark.parametrize("opaque", [False, True])
    def test_message_digest_altered(
        self, pki: StandardPKI, trust: TrustStore, opaque: bool
    ) -> None:
        der = forge.forge(pki.alice, opaque=opaque, message_digest=b"\x42" * 32)
        raw = forge.opaque_signed(der) if opaque else forge.multipart_signed(der)
        report = open_(raw, trust)
        assert report.signature is INVALID
        assert report.signers[0].addresses == ("alice@example.com",)

    @pytest.mark.parametrize("opaque", [False, True])
    def test_signature_bytes_flipped(
        self, pki: StandardPKI, trust: TrustStore, opaque: bool
    ) -> None:
        signed = sign_message(message(), pki.alice.identity, now=NOW, opaque=opaque)
        der = forge.extract_der(signed)
        info = cms.ContentInfo.load(der)
        signer = info["content"]["signer_infos"][0]
        signature = bytearray(signer["signature"].native)
        signature[len(signature) // 2] ^= 0x01
        signer["signature"] = bytes(signature)
        report = open_(forge.replace_der(signed, der, info.dump(force=True)), trust)
        assert report.signature is INVALID

    def test_message_certificates_are_never_anchors(
        self, pki: StandardPKI, trust: TrustStore
    ) -> None:
        # The attacker ships a whole chain including a self-signed "root" with the very name
        # of the real root: message certificates may only ever be intermediates.
        fake_root = make_ca("Inbox Test Root", slot=6)
        fake_ca = make_ca("Inbox Test Mail CA", issuer=fake_root, slot=7)
        leaf = make_leaf(fake_ca, "alice@example.com", cn="Alice", slot=8)
        der = forge.forge(leaf, certificates=[leaf.cert, fake_ca.cert, fake_root.cert])
        report = open_(forge.multipart_signed(der), trust)
        assert report.signature is UNTRUSTED

    def test_sha1_digest_is_weak(self, pki: StandardPKI, trust: TrustStore) -> None:
        der = forge.forge(pki.alice, digest="sha1")
        report = open_(forge.multipart_signed(der, micalg=b"sha-1"), trust)
        assert report.signature is SignatureStatus.WEAK
        assert not report.ok

    def test_rsa1024_signer_is_weak(self, pki: StandardPKI, trust: TrustStore) -> None:
        weak = make_leaf(pki.intermediate, "alice@example.com", key_kind="rsa1024")
        report = open_(sign_message(message(), weak.identity, now=NOW), trust)
        assert report.signature is SignatureStatus.WEAK


# ------------------------------------------------------------------------- §6 MIME wrapping

_ATTACKER_TEXT = b"Dear Bob, please wire 1,000,000 EUR to Eve's account.\r\n"


def _mixed(parts: list[bytes], subtype: bytes = b"mixed", params: bytes = b"") -> bytes:
    boundary = b"wrap-boundary-0001"
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return (
        forge.HEADERS
        + b"MIME-Version: 1.0\r\n"
        + b"Content-Type: multipart/"
        + subtype
        + b'; boundary="'
        + boundary
        + b'"'
        + params
        + b"\r\n\r\n"
        + body
        + b"--"
        + boundary
        + b"--\r\n"
    )


def _text(text: bytes = _ATTACKER_TEXT, ctype: bytes = b"text/plain") -> bytes:
    return b"Content-Type: " + ctype + b"; charset=utf-8\r\n\r\n" + text


def _wrappings(signed: bytes) -> dict[str, bytes]:
    entity = body_of(signed)
    html = b'<html><body><p>Wire the money.</p><img src="cid:signed@evil"></body></html>'
    return {
        "mixed-prepended": _mixed([_text(), entity]),
        "attachment": _mixed(
            [_text(), b'Content-Disposition: attachment; filename="signed.eml"\r\n' + entity]
        ),
        "alternative": _mixed(
            [entity, _text(b"<b>Wire the money.</b>", b"text/html")], b"alternative"
        ),
        "related-cid": _mixed(
            [_text(html, b"text/html"), b"Content-ID: <signed@evil>\r\n" + entity],
            b"related",
            b'; type="text/html"',
        ),
        "forwarded-rfc822": _mixed([_text(), b"Content-Type: message/rfc822\r\n\r\n" + signed]),
    }


class TestMimeWrapping:
    @pytest.mark.parametrize(
        "kind", ["mixed-prepended", "attachment", "alternative", "related-cid", "forwarded-rfc822"]
    )
    @pytest.mark.parametrize("opaque", [False, True])
    def test_partial_signature_is_unsigned(
        self,
        signed_by_alice: bytes,
        opaque_by_alice: bytes,
        trust: TrustStore,
        kind: str,
        opaque: bool,
    ) -> None:
        signed = opaque_by_alice if opaque else signed_by_alice
        assert open_(signed, trust).signature is VALID
        report = open_(_wrappings(signed)[kind], trust)
        assert report.signature is UNSIGNED
        assert report.signers == []
        assert report.signed_layers == []
        assert report.sender_match is None
        assert any("not checked" in warning for warning in report.warnings), report.warnings

    def test_preamble_and_epilogue_are_not_shown(
        self, signed_by_alice: bytes, trust: TrustStore
    ) -> None:
        # Text outside the first body part of multipart/signed is not covered: the
        # displayable message must not contain it.
        head, sep, rest = signed_by_alice.partition(b"This is an S/MIME signed message.\r\n")
        raw = head + sep + _ATTACKER_TEXT + rest + _ATTACKER_TEXT
        report = open_(raw, trust)
        assert report.signature is VALID
        assert report.inner is not None
        assert b"1,000,000" not in report.inner


# ----------------------------------------------------------------------------- §7 ID attacks


def _signed(issued: Issued, sender: str, extra: bytes = b"") -> bytes:
    return sign_message(message(sender=sender, extra_headers=extra), issued.identity, now=NOW)


class TestIdAttacks:
    def test_display_name_with_victim_address(self, pki: StandardPKI, trust: TrustStore) -> None:
        report = open_(_signed(pki.alice, '"alice@example.com" <eve@evil.example>'), trust)
        assert report.from_address == "eve@evil.example"
        assert report.sender_match is False
        assert report.signature is INVALID

    def test_attacker_signs_with_victim_from(self, eve: Issued, trust: TrustStore) -> None:
        report = open_(_signed(eve, "Alice <alice@example.com>"), trust)
        assert report.sender_match is False
        assert report.signature is not VALID
        assert report.signers[0].addresses == ("eve@evil.example",)

    def test_attacker_signs_with_victim_display_name(self, eve: Issued, trust: TrustStore) -> None:
        # Eve's own address, Alice's name in the display name: the signature is Eve's and
        # everything the report names comes from Eve's certificate.
        report = open_(_signed(eve, '"Alice <alice@example.com>" <eve@evil.example>'), trust)
        assert report.from_address == "eve@evil.example"
        assert [signer.addresses for signer in report.signers] == [("eve@evil.example",)]
        # What the report says about the signature comes from the certificate only; the
        # From field is shown as the (signed) field it is, never as the signer.
        signature_lines = [
            line
            for line in describe(report).lower().splitlines()
            if not line.startswith("protected ")
        ]
        assert not any("alice" in line for line in signature_lines)
        assert report.protected_headers is not None
        assert report.protected_headers["from"] == '"Alice <alice@example.com>" <eve@evil.example>'

    @pytest.mark.parametrize(
        "sender",
        [
            "alice@example.com <eve@evil.example>",
            "eve@evil.example <alice@example.com>",
            "<alice@example.com> <eve@evil.example>",
            "alice@example.com@evil.example",
            '"alice@example.com"@evil.example',
            "Alice <alice@example.com>eve@evil.example",
            "eve@evil.example (alice@example.com)",
            "Alice <@example.com:eve@evil.example>",
            "undisclosed:eve@evil.example;",
            "=?utf-8?q?x?= <=?utf-8?q?alice?=@example.com>",
        ],
    )
    def test_ambiguous_from_never_binds_to_alice(
        self, pki: StandardPKI, eve: Issued, trust: TrustStore, sender: str
    ) -> None:
        # Whatever a display might make of these, Alice's signature never vouches for
        # them, and Eve's only ever does for Eve's own address.
        by_alice = open_(_signed(pki.alice, sender), trust)
        assert by_alice.sender_match is False
        assert by_alice.signature is not VALID
        by_eve = open_(_signed(eve, sender), trust)
        if by_eve.sender_match:
            assert by_eve.from_address == "eve@evil.example"
        else:
            assert by_eve.signature is not VALID

    def test_two_from_fields(self, pki: StandardPKI, trust: TrustStore) -> None:
        raw = _signed(pki.alice, "Alice <alice@example.com>", b"From: Eve <eve@evil.example>\r\n")
        report = open_(raw, trust)
        assert report.sender_match is False
        assert report.signature is not VALID
        assert not report.ok

    def test_from_with_two_addresses(self, pki: StandardPKI, trust: TrustStore) -> None:
        report = open_(_signed(pki.alice, "alice@example.com, eve@evil.example"), trust)
        assert report.signature is not VALID
        assert report.sender_match is False

    @pytest.mark.parametrize("field", [b"Sender", b"Reply-To", b"Return-Path", b"Resent-From"])
    def test_other_address_fields_do_not_count(
        self, pki: StandardPKI, trust: TrustStore, field: bytes
    ) -> None:
        extra = field + b": Alice <alice@example.com>\r\n"
        report = open_(_signed(pki.alice, "Eve <eve@evil.example>", extra), trust)
        assert report.sender_match is False
        assert report.signature is INVALID

    @pytest.mark.parametrize(
        "sender",
        [
            "=?utf-8?q?alice=40example=2Ecom?= <eve@evil.example>",
            "=?utf-8?b?YWxpY2VAZXhhbXBsZS5jb20=?= <eve@evil.example>",
            "=?utf-8?q?Alice_=3Calice=40example=2Ecom=3E?= <eve@evil.example>",
        ],
    )
    def test_encoded_word_display_name(
        self, pki: StandardPKI, trust: TrustStore, sender: str
    ) -> None:
        report = open_(_signed(pki.alice, sender), trust)
        assert report.sender_match is False
        assert report.signature is INVALID

    def test_encoded_word_instead_of_address(self, pki: StandardPKI, trust: TrustStore) -> None:
        # The whole From value is an encoded word that decodes to Alice's address: it is not
        # an addr-spec, so there is no sender to bind to.
        report = open_(_signed(pki.alice, "=?utf-8?q?alice=40example=2Ecom?="), trust)
        assert report.signature is not VALID
        assert report.sender_match is False

    def test_encoded_word_display_name_with_right_address(
        self, pki: StandardPKI, trust: TrustStore
    ) -> None:
        report = open_(
            _signed(pki.alice, "=?utf-8?q?Alice_M=C3=BCller?= <alice@example.com>"), trust
        )
        assert report.signature is VALID
        assert report.sender_match is True

    @pytest.mark.parametrize(
        ("sender", "matches"),
        [
            ("alice@EXAMPLE.com", True),
            ("alice@Example.COM", True),
            ("Alice@example.com", False),
            ("ALICE@EXAMPLE.COM", False),
            ("alice@example.com.evil.example", False),
            ("alice@example.co", False),
        ],
    )
    def test_address_case(
        self, pki: StandardPKI, trust: TrustStore, sender: str, matches: bool
    ) -> None:
        # RFC 5321 §2.4: the domain is case-insensitive, the local part is not.
        report = open_(_signed(pki.alice, sender), trust)
        assert report.sender_match is matches
        assert (report.signature is VALID) is matches

    def test_address_only_in_subject_email_attribute(
        self, pki: StandardPKI, trust: TrustStore
    ) -> None:
        old_style = make_leaf(pki.intermediate, "alice@example.com", email_in_subject=True, slot=2)
        report = open_(_signed(old_style, "Alice <alice@example.com>"), trust)
        assert report.sender_match is True
        assert report.signature is VALID

    def test_certificate_without_address(self, pki: StandardPKI, trust: TrustStore) -> None:
        nameless = make_leaf(pki.intermediate, None, cn="alice@example.com", slot=2)
        report = open_(_signed(nameless, "Alice <alice@example.com>"), trust)
        assert report.sender_match is False
        assert report.signature is not VALID


# ----------------------------------------------------------------------- §5 UI redressing

_HOSTILE_CN = '<b>Alice</b>\n<img src=x onerror="alert(1)">\r\x1b[32m\u202eeciffo\x00 OK'


class TestUiRedressing:
    def test_hostile_common_name_is_plain_data(self, pki: StandardPKI, trust: TrustStore) -> None:
        hostile = make_leaf(pki.intermediate, "alice@example.com", cn=_HOSTILE_CN, slot=2)
        report = open_(_signed(hostile, "alice@example.com"), trust)
        assert report.signature is VALID
        signer = report.signers[0]
        # Verbatim, not rendered or stripped: the name is the certificate's, as data.
        assert signer.common_name == _HOSTILE_CN
        assert signer.subject == hostile.cert.subject.rfc4514_string()
        # The subject is RFC 4514 text, so <, > and " arrive escaped, everything else as is.
        for piece in ("<b>Alice</b>", "\n", "\x1b[32m", "\u202e"):
            assert piece in signer.subject.replace("\\", "")
        text = describe(report)
        for line in text.splitlines():
            assert line.isprintable(), repr(line)
        assert text.count("\n") == len(text.splitlines())
        assert "signed by: <b>Alice</b>" in text

    def test_hostile_common_name_in_error_is_one_line(self, pki: StandardPKI) -> None:
        stranger_root = make_ca("Stranger Root", slot=6)
        hostile = make_leaf(stranger_root, "alice@example.com", cn=_HOSTILE_CN, slot=2)
        report = open_message(
            _signed(hostile, "alice@example.com"), trust=TrustStore([make_ca().cert]), now=NOW
        )
        assert report.signature is UNTRUSTED
        assert report.error is not None
        assert report.error.isprintable(), repr(report.error)

    def test_claims_in_subject_and_body(self, trust: TrustStore) -> None:
        raw = message(
            subject="[S/MIME] Signed by Alice \u2714 valid",
            body="\u2714 Signed by Alice <alice@example.com> \u2014 signature valid\r\n".encode(),
        )
        report = open_(raw, trust)
        assert report.signature is UNSIGNED
        assert report.signers == []
        assert report.sender_match is None

    def test_fake_banner_html(self, trust: TrustStore) -> None:
        banner = (
            b'<html><body><div style="background:#dfd;border:1px solid green">'
            b'<img src="data:image/png;base64,AAAA"> This message is signed by '
            b"alice@example.com. Signature: <b>valid</b></div>"
            b"<p>Please wire the money.</p></body></html>\r\n"
        )
        raw = (
            forge.HEADERS
            + b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + banner
        )
        report = open_(raw, trust)
        assert report.signature is UNSIGNED
        assert report.signers == []
        assert report.inner == raw


# -------------------------------------------------------------- certificates and transport


class TestCertificatesAndTransport:
    def test_expired_signer(self, pki: StandardPKI, trust: TrustStore) -> None:
        leaf = make_leaf(
            pki.intermediate,
            not_before=NOW - timedelta(days=400),
            not_after=NOW - timedelta(days=1),
            slot=2,
        )
        report = open_(_signed(leaf, "alice@example.com"), trust)
        assert report.signature is SignatureStatus.EXPIRED
        assert not report.ok

    def test_not_yet_valid_signer(self, pki: StandardPKI, trust: TrustStore) -> None:
        leaf = make_leaf(pki.intermediate, not_before=NOW + timedelta(days=1), slot=2)
        report = open_(_signed(leaf, "alice@example.com"), trust)
        assert report.signature in (UNTRUSTED, SignatureStatus.EXPIRED)
        assert not report.ok

    def test_server_auth_eku_only(self, pki: StandardPKI, trust: TrustStore) -> None:
        leaf = make_leaf(pki.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH], slot=2)
        assert open_(_signed(leaf, "alice@example.com"), trust).signature is UNTRUSTED

    def test_key_encipherment_only(self, pki: StandardPKI, trust: TrustStore) -> None:
        leaf = make_leaf(pki.intermediate, key_usage="encrypt", slot=2)
        assert open_(_signed(leaf, "alice@example.com"), trust).signature is UNTRUSTED

    def test_self_signed_leaf_even_as_anchor(self, pki: StandardPKI) -> None:
        leaf = make_leaf(pki.intermediate, self_signed=True, slot=2)
        anchors = TrustStore([pki.root.cert, leaf.cert])
        report = open_(_signed(leaf, "alice@example.com"), anchors)
        assert report.signature is UNTRUSTED

    def test_issuer_without_ca_flag(self, pki: StandardPKI, trust: TrustStore) -> None:
        not_a_ca = make_ca("Not A CA", issuer=pki.root, ca=False, slot=6)
        leaf = make_leaf(not_a_ca, slot=2)
        assert open_(_signed(leaf, "alice@example.com"), trust).signature is UNTRUSTED

    def test_chain_to_untrusted_root(self, trust: TrustStore) -> None:
        other_root = make_ca("Other Root", slot=6)
        other_ca = make_ca("Other Mail CA", issuer=other_root, slot=7)
        leaf = make_leaf(other_ca, slot=2)
        report = open_(_signed(leaf, "alice@example.com"), trust)
        assert report.signature is UNTRUSTED
        assert report.signers[0].addresses == ("alice@example.com",)

    @pytest.mark.parametrize("opaque", [False, True])
    def test_tampered_body(self, pki: StandardPKI, trust: TrustStore, opaque: bool) -> None:
        if opaque:
            signed = sign_message(message(), pki.alice.identity, now=NOW, opaque=True)
            der = forge.extract_der(signed)
            tampered = der.replace(b"see you tomorrow", b"see you Tomorrow")
            assert tampered != der
            raw = forge.replace_der(signed, der, tampered)
        else:
            signed = sign_message(message(), pki.alice.identity, now=NOW)
            raw = signed.replace(b"see you tomorrow", b"see you tomorroW")
        report = open_(raw, trust)
        assert report.signature is INVALID

    def test_line_ending_conversion(self, signed_by_alice: bytes, trust: TrustStore) -> None:
        raw = signed_by_alice.replace(b"\r\n", b"\n")
        assert b"\r" not in raw
        report = open_(raw, trust)
        assert report.signature is VALID
        assert report.sender_match is True

    def test_epilogue_after_closing_boundary(
        self, signed_by_alice: bytes, trust: TrustStore
    ) -> None:
        report = open_(signed_by_alice + b"\r\n" + _ATTACKER_TEXT, trust)
        assert report.signature is VALID
        assert report.inner is not None
        assert b"1,000,000" not in report.inner


# ------------------------------------------------------------------------ denial of service


def _timed(raw: bytes, trust: TrustStore) -> Report:
    start = time.monotonic()
    report = open_(raw, trust)
    assert time.monotonic() - start < 5
    return report


class TestHugeNesting:
    def test_thousands_of_nested_multiparts(self, trust: TrustStore) -> None:
        level = b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        raw = (
            forge.HEADERS
            + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            + level * 5000
        )
        assert _timed(raw, trust).signature in (ERROR, UNSIGNED)

    def test_thousands_of_nested_multipart_signed(self, trust: TrustStore) -> None:
        level = (
            b'--b\r\nContent-Type: multipart/signed; protocol="application/pkcs7-signature";'
            b" boundary=b\r\n\r\n"
        )
        raw = forge.HEADERS + b"MIME-Version: 1.0\r\n" + level[5:] + level * 5000 + b"--b--\r\n"
        assert _timed(raw, trust).signature is ERROR

    def test_many_nested_signed_layers(self, pki: StandardPKI, trust: TrustStore) -> None:
        raw = message()
        for depth in range(12):
            raw = sign_message(raw, pki.alice.identity, now=NOW, opaque=depth % 2 == 0)
        report = _timed(raw, trust)
        assert report.signature is ERROR
        assert report.inner is None

    def test_nested_opaque_without_signatures(self, trust: TrustStore) -> None:
        # application/pkcs7-mime whose "CMS" is another base64 application/pkcs7-mime...
        raw = b"Content-Type: text/plain\r\n\r\nhi\r\n"
        for _ in range(30):  # base64 grows 4/3 a level: 30 levels is ~200 kB
            raw = (
                b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(raw) + b"\r\n"
            )
        assert _timed(forge.HEADERS + raw, trust).signature is ERROR

    @pytest.mark.parametrize(
        "blob",
        [
            b"\x30\x80" * 100_000,
            b"\xa0\x80" * 100_000,
            b"\x30\x84\x00\x01\x00\x00" * 20_000,
            b"\x24\x80" * 100_000,
            b"\x30\x82\xff\xff" + b"\x30\x82\xff\xfb" * 10_000,
        ],
        ids=["seq-indefinite", "ctx-indefinite", "seq-definite", "octet-string", "lying-lengths"],
    )
    @pytest.mark.parametrize("opaque", [False, True])
    def test_deeply_nested_ber(self, trust: TrustStore, blob: bytes, opaque: bool) -> None:
        raw = forge.opaque_signed(blob) if opaque else forge.multipart_signed(blob)
        report = _timed(raw, trust)
        assert report.signature is ERROR
        assert report.inner is None
