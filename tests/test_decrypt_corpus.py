"""Decryption of the public interop corpus (../shared/interop, see its README and MANIFEST).

Every encrypted sample is decrypted with the key its README names and must give the
plaintext upstream (and OpenSSL 3.0.19) gave. What the engine does not support must fail
with a clean, specific error, never a traceback:

* RFC 4134 5.2 is RC2 with a **40-bit** key (RC2CBCParameter version 160), which
  pyca/cryptography cannot run (it only has 128-bit RC2): a vague DecryptionError.
* RFC 4134 6.0 (DigestedData) and 7.x (EncryptedData) are not enveloped: MalformedError.
* LAMPS encryptedKekri needs a KEK that is not published: NoMatchingKeyError.

Full MIME messages also go through ``open_message``: layers, encryption status, signature.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.smime import (
    EncryptionStatus,
    Identity,
    SignatureStatus,
    TrustStore,
    load_identity,
    open_message,
)
from inbox_app.smime.decrypt import Decrypted, decrypt_envelope
from inbox_app.smime.encrypt import encrypt_message
from inbox_app.smime.errors import (
    DecryptionError,
    MalformedError,
    NoMatchingKeyError,
)
from inbox_app.smime.mime import parse_entity
from tests.pki import NOW, StandardPKI, make_leaf, message

pytestmark = pytest.mark.corpus

# TB current certificates are valid 2026-01-26 .. 2031-01-26: pin a time inside.
AT = datetime(2026, 6, 1, tzinfo=UTC)
TB_TEXT = b"This is a test message from Alice to Bob."
FRAN_TEXT = b"This is a test message to Fran.\n"
EX_CONTENT = b"This is some sample content."
KEK_ID = bytes.fromhex("C0FEE0")
KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")


# ---------------------------------------------------------------- helpers


def load_cert(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load_key(path: Path):
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, None)
    return serialization.load_der_private_key(data, None)


def sha256_of(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def der_of(path: Path) -> bytes:
    """The CMS ContentInfo of a sample: raw DER, PEM, or a MIME message's body."""
    data = path.read_bytes()
    if data.startswith(b"-----BEGIN"):
        lines = [line for line in data.splitlines() if not line.startswith(b"-----")]
        return base64.b64decode(b"".join(lines))
    if data[:1] == b"\x30":
        return data
    return parse_entity(data).decoded_body()


class Keys:
    def __init__(self, interop: Path) -> None:
        self.dir = interop
        tb = interop / "thunderbird"
        self.bob = load_identity((tb / "nss-smime" / "Bob.p12").read_bytes(), b"nss")
        self.alice = load_identity((tb / "nss-smime" / "Alice.p12").read_bytes(), b"nss")
        self.bob_2019 = load_identity((tb / "expired-2019" / "Bob.p12").read_bytes(), b"")
        self.fran = load_identity((tb / "smime-interop" / "Fran.p12").read_bytes(), b"nss")
        self.fran_ec = load_identity((tb / "smime-interop" / "Fran-ec.p12").read_bytes(), b"nss")
        rfc = interop / "rfc4134"
        self.rfc_bob = Identity(
            load_cert(rfc / "BobRSASignByCarl.cer"), load_key(rfc / "BobPrivRSAEncrypt.pri")
        )
        lamps = interop / "lamps-cms-examples"
        self.lamps_bob = Identity(
            load_cert(lamps / "lamps-bob.encrypt.crt"), load_key(lamps / "lamps-bob.decrypt.p8.pem")
        )
        self.lamps_dana = Identity(  # X25519 (RFC 8418)
            load_cert(lamps / "lamps-dana.encrypt.crt"),
            load_key(lamps / "lamps-dana.decrypt.p8.pem"),
        )
        self.pyca = Identity(
            load_cert(interop / "pyca" / "rsa_ca.pem"), load_key(interop / "pyca" / "rsa_key.pem")
        )
        self.tb_ca = load_cert(tb / "nss-smime" / "TestCA.pem")
        self.tb_ca_2019 = load_cert(tb / "expired-2019" / "TestCA.pem")


@pytest.fixture(scope="module")
def keys(interop: Path) -> Keys:
    return Keys(interop)


def decrypt(path: Path, *identities: Identity) -> Decrypted:
    return decrypt_envelope(der_of(path), identities, key_encryption_keys={KEK_ID: KEK})


NSS = "thunderbird/nss-smime"
NSS_ENVELOPED = [
    "alice.env.eml",
    *[f"alice.dsig.{h}.multipart.env.eml" for h in ("SHA1", "SHA256", "SHA384", "SHA512")],
    *[f"alice.sig.{h}.opaque.env.eml" for h in ("SHA1", "SHA256", "SHA384", "SHA512")],
    *[f"alice.html.sig.{h}.opaque.env.eml" for h in ("SHA1", "SHA256", "SHA384", "SHA512")],
]


# ---------------------------------------------------------------- Thunderbird / NSS


def test_every_nss_enveloped_sample_is_listed(interop: Path) -> None:
    on_disk = {p.name for p in (interop / NSS).glob("*.env.eml")} | {"alice.env.eml"}
    assert on_disk == set(NSS_ENVELOPED)


@pytest.mark.parametrize("name", NSS_ENVELOPED)
def test_nss_enveloped_decrypts_with_bob(interop: Path, keys: Keys, name: str) -> None:
    decrypted = decrypt(interop / NSS / name, keys.bob)
    assert decrypted.cipher == "aes-128-cbc"
    assert decrypted.encryption is EncryptionStatus.UNAUTHENTICATED
    assert decrypted.certificate == keys.bob.certificate
    assert decrypted.historic is False
    entity = parse_entity(decrypted.content)
    if name == "alice.env.eml":
        assert entity.content_type.value == "text/plain"
        assert TB_TEXT in decrypted.content
    elif ".dsig." in name:
        assert entity.content_type.value == "multipart/signed"
    else:
        assert entity.content_type.value == "application/pkcs7-mime"


@pytest.mark.parametrize("name", NSS_ENVELOPED)
def test_nss_enveloped_opens(interop: Path, keys: Keys, name: str) -> None:
    report = open_message(
        (interop / NSS / name).read_bytes(),
        trust=TrustStore([keys.tb_ca]),
        now=AT,
        identities=[keys.alice, keys.bob],
    )
    assert report.encryption is EncryptionStatus.UNAUTHENTICATED
    assert report.decrypted_with == sha256_of(keys.bob.certificate)
    assert report.historic_key is False
    assert any("aes-128-cbc" in warning for warning in report.warnings)
    assert report.inner is not None
    if name == "alice.env.eml":
        assert report.layers == ["encrypted"]
        assert report.signature is SignatureStatus.UNSIGNED
        assert TB_TEXT in report.inner
        return
    kind = "signed" if ".dsig." in name else "signed-opaque"
    assert report.layers == ["encrypted", kind]
    if "SHA1" in name:
        assert report.signature is SignatureStatus.WEAK
    else:
        assert report.signature is SignatureStatus.VALID, report.error
        assert report.sender_match is True
    assert [s.addresses for s in report.signers] == [("Alice@example.com",)]
    text = b"<html><body>" + TB_TEXT if ".html." in name else TB_TEXT
    assert text in report.inner


def test_nss_enveloped_without_bobs_key_fails_cleanly(interop: Path, keys: Keys) -> None:
    path = interop / NSS / "alice.env.eml"
    with pytest.raises(NoMatchingKeyError) as caught:
        decrypt(path, keys.alice)
    assert len(caught.value.recipients) == 1
    assert "NSS Test CA (RSA)" in caught.value.recipients[0]
    report = open_message(path.read_bytes(), trust=TrustStore([keys.tb_ca]), now=AT)
    assert report.encryption is EncryptionStatus.FAILED
    assert report.inner is None
    assert report.layers == ["encrypted"]
    assert report.error is not None
    assert "NSS Test CA (RSA)" in report.error


# ---------------------------------------------------------------- expired-2019


@pytest.mark.parametrize(
    "name",
    ["alice.env.eml", "alice.sig.SHA256.opaque.env.eml", "alice.dsig.SHA256.multipart.env.eml"],
)
def test_expired_2019_messages_decrypt_and_report_expired(
    interop: Path, keys: Keys, name: str
) -> None:
    report = open_message(
        (interop / "thunderbird" / "expired-2019" / name).read_bytes(),
        trust=TrustStore([keys.tb_ca_2019]),
        now=AT,
        identities=[keys.bob_2019],
    )
    assert report.encryption is EncryptionStatus.UNAUTHENTICATED
    assert report.decrypted_with == sha256_of(keys.bob_2019.certificate)
    assert report.layers[0] == "encrypted"
    assert report.inner is not None
    assert TB_TEXT in report.inner
    if name == "alice.env.eml":
        assert report.signature is SignatureStatus.UNSIGNED
    else:
        assert report.signature is SignatureStatus.EXPIRED


def test_expired_2019_raw_der_decrypts_to_alice_mime(interop: Path, keys: Keys) -> None:
    directory = interop / "thunderbird" / "expired-2019"
    der = (directory / "alice.mime.env").read_bytes()
    assert der[:1] == b"\x30"
    decrypted = decrypt_envelope(der, [keys.bob_2019])
    assert decrypted.content == (directory / "alice.mime").read_bytes()
    assert decrypted.encryption is EncryptionStatus.UNAUTHENTICATED
    # The current Bob is a different certificate: no key matches.
    with pytest.raises(NoMatchingKeyError):
        decrypt_envelope(der, [keys.bob])


def test_expired_2019_key_opens_as_a_historic_key(interop: Path, keys: Keys) -> None:
    retired = Identity(keys.bob_2019.certificate, keys.bob_2019.private_key, historic=True)
    path = interop / "thunderbird" / "expired-2019" / "alice.env.eml"
    report = open_message(
        path.read_bytes(), trust=TrustStore([]), now=AT, identities=[keys.bob, retired]
    )
    assert report.encryption is EncryptionStatus.UNAUTHENTICATED
    assert report.historic_key is True
    assert report.decrypted_with == sha256_of(keys.bob_2019.certificate)


# ---------------------------------------------------------------- smime-interop (OpenSSL 2024)

FRAN = {
    "fran-oaep_ossl.env": ("des-ede3-cbc", EncryptionStatus.WEAK, "rsa"),
    "fran-oaep-label_ossl.env": ("aes-256-cbc", EncryptionStatus.UNAUTHENTICATED, "rsa"),
    "fran-oaep-sha256hash_ossl.env": ("aes-128-cbc", EncryptionStatus.UNAUTHENTICATED, "rsa"),
    "fran-oaep-sha256hash-sha256mgf_ossl.env": (
        "aes-256-cbc",
        EncryptionStatus.UNAUTHENTICATED,
        "rsa",
    ),
    "fran-ec_ossl-aes128-sha256.env": ("aes-128-cbc", EncryptionStatus.UNAUTHENTICATED, "ec"),
    "fran-ec_ossl-aes256-sha512.env": ("aes-256-cbc", EncryptionStatus.UNAUTHENTICATED, "ec"),
}


def test_every_fran_sample_is_listed(interop: Path) -> None:
    assert {p.name for p in (interop / "thunderbird" / "smime-interop").glob("*.env")} == set(FRAN)


@pytest.mark.parametrize("name", list(FRAN))
def test_fran_samples_decrypt(interop: Path, keys: Keys, name: str) -> None:
    cipher, status, kind = FRAN[name]
    holder = keys.fran if kind == "rsa" else keys.fran_ec
    path = interop / "thunderbird" / "smime-interop" / name
    decrypted = decrypt(path, keys.fran, keys.fran_ec)
    assert decrypted.content == FRAN_TEXT
    assert decrypted.cipher == cipher
    assert decrypted.encryption is status
    assert decrypted.certificate == holder.certificate
    # The other Fran key alone cannot open it.
    other = keys.fran_ec if kind == "rsa" else keys.fran
    with pytest.raises(NoMatchingKeyError):
        decrypt(path, other)


@pytest.mark.parametrize("name", list(FRAN))
def test_fran_messages_whose_content_is_not_mime_are_shown_as_text(
    interop: Path, keys: Keys, name: str
) -> None:
    """OpenSSL encrypted a bare text line, not a MIME entity (RFC 8551 §3.3 wants one).

    Decryption worked, so Inbox shows the text as text/plain (as Thunderbird does), with a
    warning that the content was not MIME; the encryption status stays what it was.
    """
    report = open_message(
        (interop / "thunderbird" / "smime-interop" / name).read_bytes(),
        trust=TrustStore([]),
        now=AT,
        identities=[keys.fran, keys.fran_ec],
    )
    assert report.layers == ["encrypted"]
    assert report.malformed is False
    assert report.encryption is not EncryptionStatus.FAILED
    assert report.decrypted_with is not None
    assert any("not MIME" in warning for warning in report.warnings)
    assert report.inner is not None
    assert report.inner.endswith(FRAN_TEXT.replace(b"\n", b"\r\n"))  # canonical form
    assert b"Content-Type: text/plain" in report.inner


# ---------------------------------------------------------------- RFC 4134


@pytest.mark.parametrize("name", ["5.1.bin", "5.3.eml"])
def test_rfc4134_3des_envelopes_decrypt_with_bob(interop: Path, keys: Keys, name: str) -> None:
    decrypted = decrypt(interop / "rfc4134" / name, keys.rfc_bob)
    assert decrypted.content == EX_CONTENT
    assert decrypted.content == (interop / "rfc4134" / "ExContent.bin").read_bytes()
    assert decrypted.cipher == "des-ede3-cbc"
    assert decrypted.encryption is EncryptionStatus.WEAK


def test_rfc4134_5_3_message_opens_cleanly(interop: Path, keys: Keys) -> None:
    """The content is ExContent, not a MIME entity: shown as plain text, with a warning."""
    report = open_message(
        (interop / "rfc4134" / "5.3.eml").read_bytes(),
        trust=TrustStore([]),
        now=AT,
        identities=[keys.rfc_bob],
    )
    assert report.layers == ["encrypted"]
    assert report.malformed is False
    assert report.encryption is EncryptionStatus.WEAK
    assert report.inner is not None
    assert report.inner.endswith(b"This is some sample content.")


def test_rfc4134_5_2_forty_bit_rc2_decrypts(interop: Path, keys: Keys) -> None:
    """RC2 with a 40-bit effective key (version 160), which pyca/cryptography cannot run:
    our own decrepit RC2 (RFC 2268) reads it, and it is reported weak."""
    der = (interop / "rfc4134" / "5.2.bin").read_bytes()
    assert bytes.fromhex("300e020200a00408") in der  # RC2CBCParameter version 160 = 40 bits
    decrypted = decrypt_envelope(der, [keys.rfc_bob])
    assert decrypted.content == EX_CONTENT
    assert decrypted.cipher == "rc2-cbc"
    assert decrypted.encryption is EncryptionStatus.WEAK


@pytest.mark.parametrize(
    ("name", "found"),
    [("6.0.bin", "digested.data"), ("7.1.bin", "encrypted.data"), ("7.2.bin", "encrypted.data")],
)
def test_rfc4134_non_enveloped_objects_are_rejected_cleanly(
    interop: Path, keys: Keys, name: str, found: str
) -> None:
    with pytest.raises(MalformedError, match=f"found {found}"):
        decrypt_envelope((interop / "rfc4134" / name).read_bytes(), [keys.rfc_bob])


# ---------------------------------------------------------------- LAMPS examples

LAMPS = "lamps-cms-examples"


@pytest.mark.parametrize(
    ("name", "cipher", "status"),
    [
        ("encryptedForBobRSAOaep.p7m", "aes-128-cbc", EncryptionStatus.UNAUTHENTICATED),
        ("encryptedForBobAndDana.p7m", "aes-128-cbc", EncryptionStatus.UNAUTHENTICATED),
        ("authEnvelopedForBobChaCha20Poly1305.p7m", "chacha20-poly1305", EncryptionStatus.AEAD),
    ],
)
def test_lamps_samples_for_bob_decrypt(
    interop: Path, keys: Keys, name: str, cipher: str, status: EncryptionStatus
) -> None:
    decrypted = decrypt(interop / LAMPS / name, keys.lamps_bob)
    assert decrypted.content == EX_CONTENT
    assert decrypted.cipher == cipher
    assert decrypted.encryption is status
    assert decrypted.certificate == keys.lamps_bob.certificate


@pytest.mark.parametrize(
    ("name", "cipher", "status"),
    [
        ("authEnvelopedForDanaX25519HKDF.p7m", "aes-128-gcm", EncryptionStatus.AEAD),
        ("encryptedForBobAndDana.p7m", "aes-128-cbc", EncryptionStatus.UNAUTHENTICATED),
    ],
)
def test_lamps_x25519_samples_for_dana_decrypt(
    interop: Path, keys: Keys, name: str, cipher: str, status: EncryptionStatus
) -> None:
    """X25519 kari: stdDH-sha256kdf (X9.63) and ecdhHKDF-SHA256 (RFC 8418)."""
    decrypted = decrypt(interop / LAMPS / name, keys.lamps_dana)
    assert decrypted.content == EX_CONTENT
    assert decrypted.cipher == cipher
    assert decrypted.encryption is status
    assert decrypted.certificate == keys.lamps_dana.certificate


def test_lamps_kekri_without_the_kek_fails_cleanly(interop: Path, keys: Keys) -> None:
    with pytest.raises(NoMatchingKeyError) as caught:
        decrypt(interop / LAMPS / "encryptedKekri.p7m", keys.lamps_bob)
    assert "a shared key 6b65796964" in caught.value.recipients  # "keyid"


def test_lamps_bob_cannot_open_danas_only_message(interop: Path, keys: Keys) -> None:
    with pytest.raises(NoMatchingKeyError):
        decrypt(interop / LAMPS / "authEnvelopedForDanaX25519HKDF.p7m", keys.lamps_bob)


# ---------------------------------------------------------------- OpenSSL authEnveloped attrs


def test_openssl_authenveloped_with_auth_attrs_decrypts(interop: Path) -> None:
    decrypted = decrypt_envelope(
        der_of(interop / "openssl" / "authenveloped_attrs.pem"),
        [],
        key_encryption_keys={KEK_ID: KEK},
    )
    assert decrypted.content == b"Hello AuthEnvelopedData world\n"
    assert decrypted.encryption is EncryptionStatus.AEAD
    assert decrypted.cipher == "aes-128-gcm"
    assert decrypted.certificate is None
    assert decrypted.certificate_sha256 is None


def test_openssl_bad_authenveloped_attrs_fail_the_tag(interop: Path) -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt_envelope(
            der_of(interop / "openssl" / "bad_authenveloped_attrs.pem"),
            [],
            key_encryption_keys={KEK_ID: KEK},
        )
    assert type(caught.value) is DecryptionError


def test_openssl_authenveloped_with_the_wrong_kek(interop: Path) -> None:
    der = der_of(interop / "openssl" / "authenveloped_attrs.pem")
    with pytest.raises(DecryptionError):
        decrypt_envelope(der, [], key_encryption_keys={KEK_ID: bytes(16)})
    with pytest.raises(NoMatchingKeyError, match="a shared key c0fee0"):
        decrypt_envelope(der, [], key_encryption_keys={b"other": KEK})


# ---------------------------------------------------------------- pyca vectors


PYCA = {
    "enveloped-rsa-oaep.pem": (b"Hello, world!", "aes-128-cbc", "unauthenticated"),
    "enveloped-aes-256-cbc.pem": (b"Hello world!\r\n", "aes-256-cbc", "unauthenticated"),
    "enveloped-aes-192-cbc.pem": (b"Hello world!\r\n", "aes-192-cbc", "unauthenticated"),
    "enveloped-triple-des.pem": (b"Hello, World!\r\n", "des-ede3-cbc", "weak"),
}


@pytest.mark.parametrize("name", list(PYCA))
def test_pyca_vectors_decrypt(interop: Path, keys: Keys, name: str) -> None:
    plain, cipher, status = PYCA[name]
    decrypted = decrypt(interop / "pyca" / name, keys.pyca)
    assert decrypted.content == plain
    assert decrypted.cipher == cipher
    assert decrypted.encryption.value == status
    assert decrypted.certificate == keys.pyca.certificate


# ---------------------------------------------------------------- historic keys


def test_mail_to_a_retired_certificate_opens_with_the_retired_key(pki: StandardPKI) -> None:
    retired = make_leaf(
        pki.intermediate, "bob@example.org", cn="Bob (2025)", slot=51, key_usage="both"
    )
    raw = encrypt_message(message(), [retired.cert], now=NOW)
    trust = TrustStore([pki.root.cert])

    without = open_message(raw, trust=trust, now=NOW, identities=[pki.bob.identity])
    assert without.encryption is EncryptionStatus.FAILED
    assert without.inner is None
    assert without.decrypted_with is None

    historic = Identity(retired.cert, retired.key, historic=True)
    report = open_message(raw, trust=trust, now=NOW, identities=[pki.bob.identity, historic])
    assert report.error is None, report.error
    assert report.encryption is EncryptionStatus.AEAD
    assert report.historic_key is True
    assert report.decrypted_with == sha256_of(retired.cert)
    assert report.to_json()["historic_key"] is True
    assert report.inner is not None
    assert report.inner.endswith(b"see you tomorrow.\r\n")

    # Mail to both: the current key is used, not the historic one.
    both = encrypt_message(message(), [retired.cert, pki.bob.cert], now=NOW)
    current = open_message(both, trust=trust, now=NOW, identities=[historic, pki.bob.identity])
    assert current.historic_key is False
    assert current.decrypted_with == sha256_of(pki.bob.cert)


def test_mail_to_nobody_we_hold_fails_listing_the_recipients(pki: StandardPKI) -> None:
    raw = encrypt_message(message(), [pki.alice.cert, pki.carol.cert], now=NOW)
    der = parse_entity(raw).decoded_body()
    with pytest.raises(NoMatchingKeyError) as caught:
        decrypt_envelope(der, [pki.bob.identity, pki.dave.identity])
    recipients = caught.value.recipients
    assert len(recipients) == 2
    serials = {f"{pki.alice.cert.serial_number:#x}", f"{pki.carol.cert.serial_number:#x}"}
    assert {r.split()[1] for r in recipients} == serials
    assert all("CN=Inbox Test Mail CA" in r for r in recipients)

    report = open_message(
        raw,
        trust=TrustStore([pki.root.cert]),
        now=NOW,
        identities=[pki.bob.identity, pki.dave.identity],
    )
    assert report.encryption is EncryptionStatus.FAILED
    assert report.inner is None
    assert report.layers == ["encrypted"]
    assert report.malformed is False
    assert report.error is not None
    assert "\n" not in report.error
    for serial in serials:
        assert serial in report.error
