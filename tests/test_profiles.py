"""Managed configuration profiles: reading, trust, all-or-nothing install, renewal, removal.

Profiles are built with plistlib (XML and binary) from the test PKI, signed by the real
``openssl cms -sign`` and by the test CMS forge. Unit tests use a keystore over a
``MemorySecretStore``; the command-line tests call the handlers with the same services.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import plistlib
import stat
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from inbox_app.cli import profile_commands
from inbox_app.credentials.errors import CredentialsError, ProfileError
from inbox_app.credentials.keystore import ENCRYPT, HISTORIC, SIGN, Keystore
from inbox_app.credentials.profiles import (
    HISTORIC_KEY,
    Profile,
    ProfileRegistry,
    ProfileSignatureError,
    profile_anchors,
    read_profile,
)
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.errors import InboxError
from inbox_app.services.app import InboxServices
from inbox_app.smime import (
    EncryptionStatus,
    SignatureStatus,
    SignatureVerificationError,
    TrustStore,
    encrypt_message,
    open_message,
)
from inbox_app.smime.certificates import fingerprint
from tests.pki import NOW, Issued, make_leaf, message
from tests.profile_factory import (
    ProfilePKI,
    bundle,
    certificate_payload,
    eas_payload,
    engine_sign,
    mail_payload,
    openssl_sign,
    pem_wrap,
    pkcs12_payload,
    profile,
    profile_pki,
)

PASSWORD = "p12-Secret-8d1c"
SOURCE = "profile:com.example.mdm.mail"


@pytest.fixture(scope="module")
def ppki() -> ProfilePKI:
    return profile_pki()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def keystore(home: Path, secrets: MemorySecretStore) -> Keystore:
    return Keystore(home, secrets)


@pytest.fixture
def registry(home: Path, keystore: Keystore) -> ProfileRegistry:
    return ProfileRegistry(home, keystore)


def mail_profile(ppki: ProfilePKI, **options: object) -> bytes:
    """Alice's account with separate signing (S1) and encryption (E1) identities."""
    return profile(
        [
            certificate_payload(ppki.root.cert, "ROOT-1"),
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1", extractable=False),
            mail_payload(signing="S1", encryption="E1"),
        ],
        **options,  # type: ignore[arg-type]
    )


def read(data: bytes, *, anchors: list[x509.Certificate] | None = None, **kw: bool) -> Profile:
    return read_profile(
        data,
        signer_anchors=anchors or [],
        allow_unsigned=kw.get("allow_unsigned", True),
        now=NOW,
    )


def sha(issued: Issued) -> str:
    return fingerprint(issued.cert)


def snapshot(home: Path, secrets: MemorySecretStore) -> dict[str, bytes]:
    """Every file under ``home`` byte for byte, and the keyring's contents."""
    files = {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }
    files.update({f"keyring:{k}": v.encode() for k, v in secrets.values.items()})
    return files


# ------------------------------------------------------------------ CLI plumbing


class Services(InboxServices):
    """InboxServices with ``profiles`` wired as the lead wires it in services/app.py."""

    @functools.cached_property
    def profiles(self) -> ProfileRegistry:
        return ProfileRegistry(self.home, self.keystore)


def cli(services: Services, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``inbox-app profile ...`` through the handlers, errors as main() reports them."""
    parser = argparse.ArgumentParser(prog="inbox-app")
    profile_commands.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["profile", *argv])
    capsys.readouterr()
    try:
        code = args.handler(args, services)
    except InboxError as exc:
        sys.stderr.write(f"inbox-app: {exc}\n")
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def services(home: Path, secrets: MemorySecretStore) -> Services:
    return Services(home, secrets=secrets)


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ------------------------------------------------------------------ signatures and trust


def test_unsigned_profile_is_refused_without_consent(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = mail_profile(ppki)
    with pytest.raises(ProfileSignatureError) as caught:
        read_profile(data, signer_anchors=[], allow_unsigned=False, now=NOW)
    assert caught.value.status is SignatureStatus.UNSIGNED
    assert isinstance(caught.value, ProfileError)
    assert isinstance(caught.value, SignatureVerificationError)

    code, out, err = cli(services, capsys, "install", write(tmp_path, "p.mobileconfig", data))
    assert code == 1
    assert out == ""
    assert err.startswith("inbox-app: ")
    assert err.count("\n") == 1
    assert "--allow-unsigned" in err
    assert not services.home.exists()


@pytest.mark.parametrize("binary", [False, True], ids=["xml", "binary"])
def test_unsigned_profile_is_installed_with_consent(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    binary: bool,
) -> None:
    path = write(tmp_path, "p.mobileconfig", mail_profile(ppki, binary=binary))
    code, out, err = cli(services, capsys, "install", path, "--allow-unsigned")
    assert (code, err) == (0, "")
    assert out.startswith("installed profile com.example.mdm.mail (Example Corp mail), unsigned")
    [record] = services.profiles.list()
    assert record.uuid == "PROFILE-V1"
    assert record.signed_by is None
    [account] = record.accounts
    assert (account.protocol, account.email, account.name) == (
        "imap",
        "alice@example.com",
        "Alice Example",
    )
    assert (account.incoming_host, account.incoming_port, account.incoming_ssl) == (
        "imap.example.com",
        993,
        True,
    )
    assert (account.outgoing_host, account.outgoing_port, account.outgoing_username) == (
        "smtp.example.com",
        587,
        "alice",
    )
    assert account.smime_signing_enabled
    assert account.smime_encrypt_by_default
    assert account.smime_per_message_switch
    assert account.signing_certificate == sha(ppki.alice_sign)
    assert account.encryption_certificate == sha(ppki.alice_enc)
    assert services.keystore.current("alice@example.com", SIGN) is not None


@pytest.mark.openssl
def test_profile_signed_by_openssl_with_a_trusted_signer(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    openssl: str,
) -> None:
    signed = openssl_sign(openssl, ppki.mdm_signer, mail_profile(ppki), tmp_path / "openssl")
    path = write(tmp_path, "signed.mobileconfig", signed)
    anchor = write(tmp_path, "mdm-root.pem", ppki.mdm_root.pem())
    code, out, err = cli(services, capsys, "install", path, "--trust-signer", anchor)
    assert (code, err) == (0, "")
    assert "signed by CN=mdm.example.com" in out
    [record] = services.profiles.list()
    assert record.signed_by == "CN=mdm.example.com"
    assert record.signer_sha256 == sha(ppki.mdm_signer)


@pytest.mark.parametrize("wrapping", ["der", "pem", "base64"])
def test_profile_signed_by_a_signer_trusted_in_the_home(
    ppki: ProfilePKI, registry: ProfileRegistry, home: Path, wrapping: str
) -> None:
    der = engine_sign(ppki.mdm_signer, mail_profile(ppki, binary=True))
    data = {
        "der": der,
        "pem": pem_wrap(der),
        "base64": base64.encodebytes(der),
    }[wrapping]
    (home / "profile-signers").mkdir(parents=True)
    (home / "profile-signers" / "mdm.pem").write_bytes(ppki.mdm_root.pem())
    result = registry.install_data(data, now=NOW)
    assert result.changed
    assert result.profile.signed_by == "CN=mdm.example.com"


def test_der_ending_in_whitespace_octets_is_read_exactly(ppki: ProfilePKI) -> None:
    # A signature's last octets are random: they may be 0x20 or 0x0a, never to be stripped.
    for attempt in range(5000):
        der = engine_sign(ppki.mdm_signer, mail_profile(ppki, uuid=f"V-{attempt}"))
        if der[-1:].isspace():
            break
    else:
        pytest.fail("no signature ended in a whitespace octet")
    assert read(der, anchors=[ppki.mdm_root.cert]).uuid == f"V-{attempt}"


@pytest.mark.parametrize("allow_unsigned", [False, True])
def test_profile_signed_by_an_untrusted_signer_is_refused(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    allow_unsigned: bool,
) -> None:
    # Same subject as the real MDM signer, issued by a root nobody trusts.
    signed = engine_sign(ppki.rogue_signer, mail_profile(ppki))
    anchor = write(tmp_path, "mdm-root.pem", ppki.mdm_root.pem())
    argv = ["install", write(tmp_path, "p", signed), "--trust-signer", anchor]
    code, out, err = cli(services, capsys, *argv, *(["--allow-unsigned"] * allow_unsigned))
    assert code == 1, err
    assert out == ""
    assert "not accepted" in err
    assert "no path to a trusted" in err
    assert not services.home.exists()


def test_signed_profile_without_any_trusted_signer_is_refused(ppki: ProfilePKI) -> None:
    signed = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    with pytest.raises(ProfileSignatureError, match="--trust-signer") as caught:
        read(signed, anchors=[])
    assert caught.value.status is SignatureStatus.UNTRUSTED


def test_tampered_profile_is_refused(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signed = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    tampered = signed.replace(b"imap.example.com", b"imap.evil-ex.com", 1)
    assert tampered != signed
    assert len(tampered) == len(signed)
    with pytest.raises(ProfileSignatureError) as caught:
        read(tampered, anchors=[ppki.mdm_root.cert])
    assert caught.value.status is SignatureStatus.INVALID

    anchor = write(tmp_path, "mdm-root.pem", ppki.mdm_root.pem())
    argv = ["install", write(tmp_path, "p", tampered), "--trust-signer", anchor]
    code, _, err = cli(services, capsys, *argv, "--allow-unsigned")
    assert code == 1
    assert "altered" in err


def test_signer_of_a_replacement_must_match(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signed = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    anchor = write(tmp_path, "mdm-root.pem", ppki.mdm_root.pem())
    assert (
        cli(services, capsys, "install", write(tmp_path, "a", signed), "--trust-signer", anchor)[0]
        == 0
    )
    before = snapshot(services.home, services.secrets)  # type: ignore[arg-type]
    unsigned = mail_profile(ppki, uuid="PROFILE-V2")
    code, _, err = cli(
        services, capsys, "install", write(tmp_path, "b", unsigned), "--allow-unsigned"
    )
    assert code == 1
    assert "same signer" in err
    assert snapshot(services.home, services.secrets) == before  # type: ignore[arg-type]


# ------------------------------------------------------------------ identities


def test_separate_signing_and_encryption_identities(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    result = registry.install(read(mail_profile(ppki)))
    signing = keystore.current("alice@example.com", SIGN)
    encryption = keystore.current("alice@example.com", ENCRYPT)
    assert signing is not None
    assert encryption is not None
    assert signing.certificate == ppki.alice_sign.cert
    assert encryption.certificate == ppki.alice_enc.cert
    assert signing.uses == {SIGN}
    assert encryption.uses == {ENCRYPT}
    assert signing.source == encryption.source == SOURCE
    assert signing.exportable
    assert not encryption.exportable
    with pytest.raises(CredentialsError, match="may not be exported"):
        keystore.export_private(encryption.sha256, b"pw")
    assert [a.email for a in result.profile.accounts] == ["alice@example.com"]
    assert result.profile.anchors == (ppki.root.cert,)


def test_one_uuid_for_signing_and_encryption_means_both(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    data = profile(
        [pkcs12_payload(ppki.alice_both, "B1"), mail_payload(signing="B1", encryption="B1")]
    )
    registry.install(read(data))
    [entry] = keystore.identities()
    assert entry.uses == {SIGN, ENCRYPT}


def test_archived_keys_are_historic_and_open_old_mail(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1"),
            pkcs12_payload(ppki.alice_archived, "OLD-1", "another-Pass-77"),
            mail_payload(signing="S1", encryption="E1", historic=["OLD-1"]),
        ]
    )
    read_back = read(data)
    assert [i.historic for i in read_back.identities] == [False, False, True]
    registry.install(read_back)
    states = {entry.certificate: entry.state for entry in keystore.identities()}
    assert states[ppki.alice_archived.cert] == HISTORIC
    assert registry.list()[0].accounts[0].historic_certificates == (sha(ppki.alice_archived),)
    old_mail = encrypt_message(
        message(to="alice@example.com"), [ppki.alice_archived.cert], now=NOW - timedelta(days=500)
    )
    report = open_message(
        old_mail,
        trust=TrustStore([ppki.root.cert]),
        now=NOW,
        identities=keystore.decryption_identities(),
    )
    assert report.encryption is EncryptionStatus.AEAD
    assert report.historic_key is True
    assert report.inner is not None
    assert b"see you tomorrow" in report.inner


def test_wrong_password_in_the_middle_changes_nothing(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    other = profile([pkcs12_payload(ppki.bob, "BOB")], identifier="com.example.bob")
    assert services.profiles.install(read(other)).changed
    before = snapshot(services.home, services.secrets)  # type: ignore[arg-type]
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1", p12_password="not-what-it-says"),
            pkcs12_payload(ppki.alice_archived, "OLD-1"),
            mail_payload(signing="S1", encryption="E1", historic=["OLD-1"]),
        ]
    )
    with pytest.raises(ProfileError, match="wrong password") as caught:
        services.profiles.install(read(data))
    assert not isinstance(caught.value, SignatureVerificationError)
    code, out, err = cli(
        services, capsys, "install", write(tmp_path, "p", data), "--allow-unsigned"
    )
    assert (code, out) == (2, "")
    assert "payload 2" in err
    assert "wrong password" in err
    assert "not-what-it-says" not in err
    assert snapshot(services.home, services.secrets) == before  # type: ignore[arg-type]


def test_address_must_match_the_account(ppki: ProfilePKI, registry: ProfileRegistry) -> None:
    data = profile([pkcs12_payload(ppki.bob, "B"), mail_payload(signing="B", encryption="B")])
    with pytest.raises(ProfileError, match=r"not for alice@example\.com"):
        read(data)


def test_identity_unfit_for_its_use_is_refused(ppki: ProfilePKI) -> None:
    data = profile([pkcs12_payload(ppki.alice_enc, "E"), mail_payload(signing="E")])
    with pytest.raises(ProfileError, match="may not sign"):
        read(data)


def test_reference_to_a_missing_payload_is_refused(ppki: ProfilePKI) -> None:
    data = profile(
        [pkcs12_payload(ppki.alice_sign, "S1"), mail_payload(signing="S1", encryption="NOPE")]
    )
    with pytest.raises(ProfileError, match="SMIMEEncryptionCertificateUUID NOPE names no PKCS#12"):
        read(data)


def test_two_current_identities_for_one_use_are_refused(ppki: ProfilePKI) -> None:
    data = profile(
        [
            pkcs12_payload(ppki.alice_enc, "E1"),
            pkcs12_payload(ppki.alice_enc_renewed, "E2"),
            mail_payload(encryption="E1", uuid="M1"),
            mail_payload(encryption="E2", uuid="M2"),
        ]
    )
    with pytest.raises(ProfileError, match="both be the current encryption identity"):
        read(data)


def test_unnamed_identities(ppki: ProfilePKI) -> None:
    # No account names any identity: S/MIME identities go in for what their key usage allows.
    wifi = make_leaf(ppki.intermediate, None, cn="laptop-17", slot=44, eku=[])
    bare = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1"),
            pkcs12_payload(wifi, "WIFI"),
        ]
    )
    result = read(bare)
    assert {i.payload_uuid: i.uses for i in result.identities} == {"S1": {SIGN}, "E1": {ENCRYPT}}
    assert any("WIFI" in note and "no S/MIME certificate" in note for note in result.notes)
    # An account names some: the others are for something else and are skipped.
    named = profile(
        [
            pkcs12_payload(ppki.alice_both, "B1"),
            pkcs12_payload(ppki.alice_sign, "S1"),
            mail_payload(signing="B1", encryption="B1"),
        ]
    )
    result = read(named)
    assert [i.payload_uuid for i in result.identities] == ["B1"]
    assert any(
        "Identity S1" in note and "no mail account names it" in note for note in result.notes
    )


# ------------------------------------------------------------------ install, renew, remove


def test_reinstall_changes_nothing(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "p", mail_profile(ppki))
    assert cli(services, capsys, "install", path, "--allow-unsigned")[0] == 0
    before = snapshot(services.home, services.secrets)  # type: ignore[arg-type]
    code, out, _ = cli(services, capsys, "install", path, "--allow-unsigned")
    assert code == 0
    assert "already installed; nothing changed" in out
    assert snapshot(services.home, services.secrets) == before  # type: ignore[arg-type]


def test_renewal_keeps_the_old_encryption_key_for_old_mail(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    registry.install(read(mail_profile(ppki)))
    old_mail = encrypt_message(message(to="alice@example.com"), [ppki.alice_enc.cert], now=NOW)
    renewed = profile(
        [
            certificate_payload(ppki.root.cert, "ROOT-1"),
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc_renewed, "E2"),
            mail_payload(signing="S1", encryption="E2"),
        ],
        uuid="PROFILE-V2",
    )
    result = registry.install(read(renewed))
    assert result.changed
    assert result.replaced_uuid == "PROFILE-V1"
    assert [record.uuid for record in registry.list()] == ["PROFILE-V2"]
    by_cert = {entry.certificate: entry for entry in keystore.identities()}
    assert by_cert[ppki.alice_enc.cert].state == HISTORIC
    current = keystore.current("alice@example.com", ENCRYPT)
    assert current is not None
    assert current.certificate == ppki.alice_enc_renewed.cert
    signing = keystore.current("alice@example.com", SIGN)
    assert signing is not None
    assert signing.certificate == ppki.alice_sign.cert
    report = open_message(
        old_mail,
        trust=TrustStore([ppki.root.cert]),
        now=NOW,
        identities=keystore.decryption_identities(),
    )
    assert report.historic_key is True
    assert report.inner is not None
    assert b"see you tomorrow" in report.inner


def test_a_version_that_drops_identities_retires_them(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    registry.install(read(mail_profile(ppki)))
    slim = profile([mail_payload()], uuid="PROFILE-V2")  # no S/MIME any more
    registry.install(read(slim))
    entries = keystore.identities()
    assert [e.certificate for e in entries] == [ppki.alice_enc.cert]  # signing key gone
    assert entries[0].state == HISTORIC


def test_a_dropped_identity_that_once_decrypted_stays_for_old_mail(
    ppki: ProfilePKI, registry: ProfileRegistry, keystore: Keystore
) -> None:
    v1 = profile(
        [pkcs12_payload(ppki.alice_both, "B1"), mail_payload(signing="B1", encryption="B1")]
    )
    registry.install(read(v1))
    old_mail = encrypt_message(message(to="alice@example.com"), [ppki.alice_both.cert], now=NOW)
    v2 = profile(
        [pkcs12_payload(ppki.alice_enc_renewed, "E2"), mail_payload(encryption="E2")],
        uuid="PROFILE-V2",
    )
    registry.install(read(v2))
    by_cert = {entry.certificate: entry for entry in keystore.identities()}
    assert by_cert[ppki.alice_both.cert].state == HISTORIC
    assert keystore.current("alice@example.com", SIGN) is None
    report = open_message(
        old_mail,
        trust=TrustStore([ppki.root.cert]),
        now=NOW,
        identities=keystore.decryption_identities(),
    )
    assert report.historic_key is True


@pytest.mark.parametrize("purge", [False, True])
def test_remove(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    purge: bool,
) -> None:
    other = profile([pkcs12_payload(ppki.bob, "BOB")], identifier="com.example.bob")
    services.profiles.install(read(other))
    services.profiles.install(read(mail_profile(ppki)))
    assert profile_anchors(services.home) == [ppki.root.cert]
    code, out, _ = cli(services, capsys, "remove", "com.example.mdm.mail", *(["--purge"] * purge))
    assert code == 0
    assert out.startswith("removed profile com.example.mdm.mail")
    assert [r.identifier for r in services.profiles.list()] == ["com.example.bob"]
    assert profile_anchors(services.home) == []
    remaining = {e.certificate: e for e in services.keystore.identities()}
    assert ppki.alice_sign.cert not in remaining
    assert ppki.bob.cert in remaining
    if purge:
        assert ppki.alice_enc.cert not in remaining
    else:
        assert remaining[ppki.alice_enc.cert].state == HISTORIC
        assert "1 decryption keys kept as historic" in out
    assert services.keystore.current("alice@example.com", ENCRYPT) is None
    code, _, err = cli(services, capsys, "remove", "com.example.mdm.mail")
    assert code == 2
    assert "no installed profile" in err


# ------------------------------------------------------------------ formats and payloads


def test_rest_bundle_with_archived_keys(
    ppki: ProfilePKI,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    data = bundle(
        signing=(ppki.alice_sign, "sign-Pass-1"),
        encryption=(ppki.alice_enc, "enc-Pass-2"),
        archived=[(ppki.alice_archived, "old-Pass-3")],
    )
    path = write(tmp_path, "upload.json", data)
    assert cli(services, capsys, "install", path)[0] == 1  # unsigned: consent needed
    code, out, _ = cli(services, capsys, "install", path, "--allow-unsigned")
    assert code == 0
    assert "smime-bundle:alice@example.com" in out
    by_cert = {e.certificate: e for e in services.keystore.identities()}
    assert by_cert[ppki.alice_sign.cert].uses == {SIGN}
    assert by_cert[ppki.alice_enc.cert].uses == {ENCRYPT}
    assert by_cert[ppki.alice_archived.cert].state == HISTORIC
    assert all(e.source == "profile:smime-bundle:alice@example.com" for e in by_cert.values())
    # Only an encryption identity and optional keys absent.
    minimal = read(bundle(encryption=(ppki.alice_enc_renewed, "x")))
    [identity] = minimal.identities
    assert identity.uses == {ENCRYPT}
    assert not identity.historic


def test_rest_bundle_errors(ppki: ProfilePKI) -> None:
    with pytest.raises(ProfileError, match="holds no certificate"):
        read(b"{}")
    with pytest.raises(ProfileError, match="wrong password"):
        read(bundle(signing=(ppki.alice_sign, "right")).replace(b'"right"', b'"wrong"'))
    with pytest.raises(ProfileError, match="not base64"):
        read(b'{"Signing": {"CertificatePayload": "@@@", "Password": "x"}}')
    with pytest.raises(ProfileError, match=r"is not for alice@example\.com"):
        read(bundle(encryption=(ppki.alice_enc, "a"), archived=[(ppki.bob, "b")]))


def test_unknown_payloads_are_listed_and_skipped(
    ppki: ProfilePKI, registry: ProfileRegistry
) -> None:
    data = profile(
        [
            {"PayloadType": "com.apple.wifi.managed", "PayloadUUID": "W", "SSID_STR": "corp"},
            pkcs12_payload(ppki.alice_both, "B1"),
            {
                "PayloadType": "com.apple.vpn.managed",
                "PayloadUUID": "V",
                "PayloadDisplayName": "VPN",
            },
        ]
    )
    result = registry.install(read(data))
    skipped = [note for note in result.notes if note.startswith("skipped")]
    assert len(skipped) == 2
    assert "com.apple.wifi.managed" in skipped[0]
    assert "com.apple.vpn.managed" in skipped[1]
    assert registry.list()[0].notes == result.notes
    assert len(result.profile.identities) == 1


def test_eas_payload_is_noted_and_its_smime_settings_honoured(ppki: ProfilePKI) -> None:
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1"),
            eas_payload(signing="S1", encryption="E1"),
        ]
    )
    result = read(data)
    assert {i.payload_uuid: i.uses for i in result.identities} == {"S1": {SIGN}, "E1": {ENCRYPT}}
    [account] = result.accounts
    assert (account.protocol, account.email, account.incoming_host) == (
        "eas",
        "alice@example.com",
        "outlook.example.com",
    )
    assert any("Exchange ActiveSync is not supported" in note for note in result.notes)


def test_certificate_payloads(ppki: ProfilePKI) -> None:
    data = profile(
        [
            certificate_payload(ppki.root.cert, "R", "root"),
            certificate_payload(ppki.intermediate.cert, "I", "pkcs1"),
            certificate_payload(ppki.mdm_root.cert, "P", "pem"),
            certificate_payload(ppki.bob.cert, "LEAF", "pkcs1"),
        ]
    )
    result = read(data)
    assert result.anchors == (ppki.root.cert, ppki.intermediate.cert, ppki.mdm_root.cert)
    assert any("is not a certificate authority" in note for note in result.notes)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello", "not a configuration profile"),
        (b"<?xml version='1.0'?><plist><dict>", "not a well-formed property list"),
        (plistlib.dumps(["a"]), "not a dictionary"),
        (plistlib.dumps({"PayloadType": "Configuration"}), "has no PayloadIdentifier"),
        (
            plistlib.dumps(
                {"PayloadType": "Configuration", "PayloadIdentifier": "x", "PayloadUUID": "u"}
            ),
            "no PayloadContent",
        ),
        (
            plistlib.dumps(
                {
                    "PayloadType": "Configuration",
                    "PayloadIdentifier": "x",
                    "PayloadUUID": "u",
                    "EncryptedPayloadContent": b"x",
                }
            ),
            "encrypted profiles",
        ),
        (b"[1, 2]", "not a configuration profile"),
        (b'{"Signing": 1', "not well-formed JSON"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a PKCS7"),
        (b"\x30\x03\x02\x01\x01", "malformed"),
        (
            b'<!DOCTYPE plist [<!ENTITY a "aaaa">]><plist version="1.0"><dict/></plist>',
            "not a well-formed property list",
        ),
    ],
)
def test_malformed_input_is_bad_input_not_a_security_refusal(data: bytes, reason: str) -> None:
    with pytest.raises(ProfileError, match=reason) as caught:
        read(data)
    assert not isinstance(caught.value, SignatureVerificationError)


def test_malformed_payload_values(ppki: ProfilePKI) -> None:
    bad_port = mail_payload(IncomingMailServerPortNumber="993")
    with pytest.raises(ProfileError, match="IncomingMailServerPortNumber is not a port"):
        read(profile([bad_port]))
    p12 = pkcs12_payload(ppki.alice_both, "B")
    p12["KeyIsExtractable"] = "no"
    with pytest.raises(ProfileError, match="KeyIsExtractable is not a boolean"):
        read(profile([p12]))
    with pytest.raises(ProfileError, match=f"{HISTORIC_KEY} must be an array"):
        read(profile([mail_payload(**{HISTORIC_KEY: "OLD"})]))
    with pytest.raises(ProfileError, match="two payloads have the PayloadUUID"):
        read(profile([mail_payload(uuid="X"), mail_payload(uuid="X")]))


def test_account_passwords_are_not_kept(
    ppki: ProfilePKI, registry: ProfileRegistry, home: Path
) -> None:
    data = profile(
        [mail_payload(IncomingPassword="imap-Pass-4471", OutgoingPassword="smtp-Pass-9")]
    )
    result = registry.install(read(data))
    assert any("IncomingPassword is not stored" in note for note in result.notes)
    text = (home / "profiles.json").read_bytes()
    assert b"imap-Pass-4471" not in text
    assert b"smtp-Pass-9" not in text


# ------------------------------------------------------------------ the CLI, the data directory


def test_delete_source(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = Path(write(tmp_path, "p.mobileconfig", mail_profile(ppki)))
    code, _, _ = cli(services, capsys, "install", str(path), "--delete-source")
    assert code == 1
    assert path.exists()
    code, _, _ = cli(services, capsys, "install", str(path), "--allow-unsigned", "--delete-source")
    assert code == 0
    assert not path.exists()


def test_list_json_contract(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli(services, capsys, "list", "--json")[1] == "[]\n"
    signed = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    anchor = write(tmp_path, "mdm.pem", ppki.mdm_root.pem())
    cli(services, capsys, "install", write(tmp_path, "p", signed), "--trust-signer", anchor)
    code, out, _ = cli(services, capsys, "list", "--json")
    assert code == 0
    [item] = json.loads(out)
    assert set(item) == {
        "id",
        "uuid",
        "name",
        "signed_by",
        "identities",
        "accounts",
        "installed_at",
    }
    assert item["id"] == "com.example.mdm.mail"
    assert item["uuid"] == "PROFILE-V1"
    assert item["name"] == "Example Corp mail"
    assert item["signed_by"] == "CN=mdm.example.com"
    assert item["identities"] == [sha(ppki.alice_sign), sha(ppki.alice_enc)]
    assert item["accounts"] == ["alice@example.com"]
    code, out, _ = cli(services, capsys, "list")
    assert code == 0
    assert out.startswith("com.example.mdm.mail  'Example Corp mail'  2 identities")


def _encodings(der: bytes) -> list[bytes]:
    """Recognisable fragments of ``der`` in every encoding a careless writer might use."""
    middle = len(der) // 2
    fragments = [der[middle - 24 : middle + 24]]
    for shift in range(3):  # base64 at every alignment, with and without line breaks
        encoded = base64.b64encode(der[shift:])
        fragments.append(encoded[len(encoded) // 2 : len(encoded) // 2 + 40])
        urlsafe = base64.urlsafe_b64encode(der[shift:])
        fragments.append(urlsafe[len(urlsafe) // 2 : len(urlsafe) // 2 + 40])
    hexed = der.hex()
    fragments += [hexed[len(hexed) // 2 : len(hexed) // 2 + 64].encode()]
    fragments += [fragment.upper() for fragment in fragments[-1:]]
    return fragments


def test_no_secret_reaches_the_data_directory(
    ppki: ProfilePKI, services: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    passwords = {"S1": "sign-Pw-5c2e", "E1": "enc-Pw-91ab", "OLD": "old-Pw-77f0"}
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1", passwords["S1"]),
            pkcs12_payload(ppki.alice_enc, "E1", passwords["E1"]),
            pkcs12_payload(ppki.alice_archived, "OLD", passwords["OLD"]),
            mail_payload(signing="S1", encryption="E1", historic=["OLD"]),
        ]
    )
    assert cli(services, capsys, "install", write(tmp_path, "a", data), "--allow-unsigned")[0] == 0
    rest = bundle(encryption=(ppki.bob, "bob-Pw-0e3d"))
    assert cli(services, capsys, "install", write(tmp_path, "b", rest), "--allow-unsigned")[0] == 0

    files = [path for path in services.home.rglob("*") if path.is_file()]
    assert any(path.name == "profiles.json" for path in files)
    blobs = {path: path.read_bytes() for path in files}
    needles: list[bytes] = [p.encode() for p in [*passwords.values(), "bob-Pw-0e3d"]]
    for issued in (ppki.alice_sign, ppki.alice_enc, ppki.alice_archived, ppki.bob):
        pkcs8 = issued.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        needles += _encodings(pkcs8)
        assert isinstance(issued.key, rsa.RSAPrivateKey)
        traditional = issued.key.private_bytes(
            Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption()
        )
        needles += _encodings(traditional)
        pem_lines = issued.key_pem().splitlines()
        needles.append(pem_lines[len(pem_lines) // 2])  # a line of the PEM body
        needles += _encodings(issued.p12(PASSWORD.encode()))[:1]
    for path, blob in blobs.items():
        for needle in needles:
            assert needle not in blob, f"{path} holds secret material"
    if os.name != "nt":
        registry_file = services.home / "profiles.json"
        assert stat.S_IMODE(registry_file.stat().st_mode) == 0o600
    decoded = json.loads((services.home / "profiles.json").read_bytes())
    assert "Password" not in json.dumps(decoded)


def test_main_runs_the_profile_commands(
    ppki: ProfilePKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inbox_app.cli.main import main

    home = str(tmp_path / "home")
    signed = engine_sign(ppki.rogue_signer, mail_profile(ppki))
    assert main(["--home", home, "profile", "install", write(tmp_path, "p", signed)]) == 1
    assert main(["--home", home, "profile", "install", write(tmp_path, "q", b"junk")]) == 2
    capsys.readouterr()
    assert main(["--home", home, "profile", "list", "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"
