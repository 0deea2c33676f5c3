"""The install flows and the certificate manager's lists (services/install.py), headless.

Real services over a temporary home and a ``MemorySecretStore``; identities from the test
PKI, profiles from the profile factory, signatures from the test CMS forge.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from inbox_app.credentials.errors import CredentialsError, ProfileError
from inbox_app.credentials.profiles import ProfileSignatureError
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.errors import AccountError
from inbox_app.services import install
from inbox_app.services.app import InboxServices
from inbox_app.services.open_file import FileKind, OpenFileError
from inbox_app.smime import open_message, sign_message
from inbox_app.smime.certificates import fingerprint
from tests.pki import NOW, Issued, StandardPKI, make_ca, make_leaf, message, standard_pki
from tests.profile_factory import (
    ProfilePKI,
    bundle,
    certificate_payload,
    engine_sign,
    mail_payload,
    pkcs12_payload,
    profile,
    profile_pki,
)

P12_PASSWORD = "Right-Password-1"


@pytest.fixture(scope="module")
def ppki() -> ProfilePKI:
    return profile_pki()


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def services(tmp_path: Path, secrets: MemorySecretStore) -> InboxServices:
    return InboxServices(tmp_path / "home", secrets=secrets)


def snapshot(services: InboxServices, secrets: MemorySecretStore) -> dict[str, bytes]:
    """Every file under the home byte for byte, and the keyring's contents."""
    home = services.home
    files = {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }
    files.update({f"keyring:{k}": v.encode() for k, v in secrets.values.items()})
    return files


def p12(issued: Issued, password: str = P12_PASSWORD) -> bytes:
    return issued.p12(password.encode())


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


def trust_mdm(services: InboxServices, ppki: ProfilePKI) -> None:
    signers = services.home / "profile-signers"
    signers.mkdir(parents=True, exist_ok=True)
    (signers / "mdm.pem").write_bytes(ppki.mdm_root.pem())


def trust_mail_ca(services: InboxServices, pki: StandardPKI) -> None:
    """The test PKI's root becomes a trust anchor of the home (as the mail engine reads it)."""
    anchors = services.home / "anchors"
    anchors.mkdir(parents=True, exist_ok=True)
    (anchors / "root.pem").write_bytes(pki.root.pem())


def my_alice_home(services: InboxServices, pki: StandardPKI) -> None:
    """A home whose user is Alice: the CA is trusted, her account exists, and her key
    (from a file she opened) is current for signing and encryption."""
    trust_mail_ca(services, pki)
    install.add_local_account(services, "Alice", "alice@example.com")
    install.install_p12(
        services, p12(pki.alice), P12_PASSWORD, "both", source="p12:alice", now=NOW, from_mail=False
    )


@functools.cache
def self_signed_alice() -> Issued:
    """What an attacker mails: a self-made key "for" Alice's address, with its password."""
    return make_leaf(
        standard_pki().intermediate,
        "alice@example.com",
        cn="Alice",
        slot=64,
        key_usage="both",
        self_signed=True,
    )


@functools.cache
def renewed_alice() -> Issued:
    """Alice's renewal, from the trusted CA."""
    return make_leaf(
        standard_pki().intermediate,
        "alice@example.com",
        cn="Alice (renewed)",
        slot=65,
        key_usage="both",
    )


@functools.cache
def expiring_soon() -> Issued:
    """Erin's certificate, which expires ten days after NOW."""
    return make_leaf(
        standard_pki().intermediate,
        "erin@example.com",
        cn="Erin",
        slot=60,
        key_usage="both",
        not_after=NOW + timedelta(days=10),
    )


@functools.cache
def signing_only() -> Issued:
    return make_leaf(
        standard_pki().intermediate, "sam@example.com", cn="Sam", slot=61, key_usage="sign"
    )


# ---------------------------------------------------------------------------- .p12


def test_p12_preview_describes_the_identity_and_changes_nothing(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    install.install_p12(
        services, p12(pki.bob), P12_PASSWORD, "both", source="p12:bob", now=NOW, from_mail=False
    )
    before = snapshot(services, secrets)

    preview = install.inspect_p12(services, p12(pki.alice), P12_PASSWORD, now=NOW)

    assert snapshot(services, secrets) == before
    assert preview.sha256 == fingerprint(pki.alice.cert)
    assert preview.subject == "CN=Alice"
    assert preview.addresses == ("alice@example.com",)
    assert preview.issuer == "CN=Inbox Test Mail CA"
    assert preview.key_type == "RSA 2048"
    assert preview.not_before == pki.alice.cert.not_valid_before_utc
    assert preview.not_after == pki.alice.cert.not_valid_after_utc
    assert preview.chain == ("CN=Inbox Test Mail CA", "CN=Inbox Test Root")
    assert preview.allowed_uses == ("signing", "encryption", "both")
    assert preview.suggested_use == "both"
    assert not preview.expired
    assert not preview.already_installed
    assert preview.warnings == ()


def test_p12_preview_of_an_ec_identity(pki: StandardPKI, services: InboxServices) -> None:
    preview = install.inspect_p12(services, p12(pki.carol), P12_PASSWORD, now=NOW)
    assert preview.key_type == "EC P-256"
    assert preview.addresses == ("carol@example.net",)


@pytest.mark.parametrize("action", ["inspect", "install"])
def test_wrong_password_changes_nothing(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore, action: str
) -> None:
    install.install_p12(
        services, p12(pki.bob), P12_PASSWORD, "both", source="p12:bob", now=NOW, from_mail=False
    )
    before = snapshot(services, secrets)
    assert any(name.startswith("keystore/") for name in before)

    def attempt() -> None:
        if action == "inspect":
            install.inspect_p12(services, p12(pki.alice), "wrong", now=NOW)
        else:
            install.install_p12(
                services,
                p12(pki.alice),
                "wrong",
                "both",
                source="p12:alice",
                now=NOW,
                from_mail=False,
            )

    with pytest.raises(CredentialsError) as caught:
        attempt()

    assert "wrong password" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(services, secrets) == before


def test_wrong_password_into_an_empty_home_writes_nothing(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    with pytest.raises(CredentialsError):
        install.install_p12(
            services, p12(pki.alice), "", "both", source="p12:alice", now=NOW, from_mail=False
        )
    assert not services.home.exists()
    assert secrets.values == {}


def test_malformed_file_is_a_one_line_error(services: InboxServices) -> None:
    with pytest.raises(CredentialsError) as caught:
        install.inspect_p12(services, b"not a pkcs12 file", P12_PASSWORD, now=NOW)
    assert "\n" not in str(caught.value)
    assert not services.home.exists()


def test_p12_without_a_password(pki: StandardPKI, services: InboxServices) -> None:
    data = pki.alice.p12(None)
    preview = install.inspect_p12(services, data, "", now=NOW)
    assert preview.addresses == ("alice@example.com",)
    [entry] = install.install_p12(
        services, data, "", "both", source="p12:a", now=NOW, from_mail=False
    )
    assert entry.sha256 == preview.sha256


@pytest.mark.parametrize(
    ("use", "uses", "label"),
    [
        ("signing", {"sign"}, "signing"),
        ("encryption", {"encrypt"}, "encryption"),
        ("both", {"sign", "encrypt"}, "both"),
    ],
)
def test_the_use_choice_is_respected(
    pki: StandardPKI, services: InboxServices, use: str, uses: set[str], label: str
) -> None:
    trust_mail_ca(services, pki)
    install.add_local_account(services, "Alice", "alice@example.com")
    [entry] = install.install_p12(
        services, p12(pki.alice), P12_PASSWORD, use, source="mail:alice.p12", now=NOW
    )
    assert entry.uses == uses
    assert entry.state == "current"
    assert entry.source == "mail:alice.p12"
    [row] = install.identity_rows(services, now=NOW)
    assert (row.use, row.state, row.source) == (label, "current", "mail:alice.p12")
    preview = install.inspect_p12(services, p12(pki.alice), P12_PASSWORD, now=NOW)
    assert preview.already_installed
    assert "already installed" in preview.warnings[-1]


def test_unknown_use_is_refused(pki: StandardPKI, services: InboxServices) -> None:
    with pytest.raises(CredentialsError, match="unknown use"):
        install.install_p12(
            services, p12(pki.alice), P12_PASSWORD, "sign", source="x", now=NOW, from_mail=False
        )


def test_signing_only_certificate_offers_only_signing(
    services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = p12(signing_only())
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert preview.allowed_uses == ("signing",)
    assert preview.suggested_use == "signing"
    with pytest.raises(CredentialsError, match="may not be used to encrypt"):
        install.install_p12(
            services, data, P12_PASSWORD, "both", source="p12:sam", now=NOW, from_mail=False
        )
    assert not services.home.exists()
    assert secrets.values == {}


def test_a_certificate_without_email_protection_is_refused(
    pki: StandardPKI, services: InboxServices
) -> None:
    tls_only = make_leaf(
        pki.intermediate,
        "tls@example.com",
        cn="TLS",
        slot=62,
        eku=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH],
    )
    with pytest.raises(CredentialsError, match="not for email protection"):
        install.inspect_p12(services, p12(tls_only), P12_PASSWORD, now=NOW)


def test_an_expired_certificate_is_installed_as_historic(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    # Alice's current encryption key must not be pushed aside by an expired one.
    install.install_p12(
        services,
        p12(ppki.alice_enc),
        P12_PASSWORD,
        "encryption",
        source="p12:new",
        now=NOW,
        from_mail=False,
    )
    data = p12(ppki.alice_archived)
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert preview.expired
    assert preview.suggested_use == "encryption"
    assert "installed as historic" in preview.warnings[0]

    with pytest.raises(CredentialsError, match="can no longer sign"):
        install.install_p12(
            services, data, P12_PASSWORD, "signing", source="p12:old", now=NOW, from_mail=False
        )
    [entry] = install.install_p12(
        services, data, P12_PASSWORD, "both", source="p12:old", now=NOW, from_mail=False
    )
    assert (entry.state, entry.uses) == ("historic", {"encrypt"})
    rows = {row.sha256: row for row in install.identity_rows(services, now=NOW)}
    assert rows[fingerprint(ppki.alice_enc.cert)].state == "current"
    old = rows[fingerprint(ppki.alice_archived.cert)]
    assert (old.state, old.use, old.expired, old.warning) == (
        "historic",
        "decryption only",
        True,
        None,
    )


def test_renewal_makes_the_previous_key_historic(ppki: ProfilePKI, services: InboxServices) -> None:
    for issued in (ppki.alice_enc, ppki.alice_enc_renewed):
        install.install_p12(
            services,
            p12(issued),
            P12_PASSWORD,
            "encryption",
            source="p12:x",
            now=NOW,
            from_mail=False,
        )
    rows = install.identity_rows(services, now=NOW)
    assert [(row.subject, row.state, row.use) for row in rows] == [
        ("CN=Alice (encryption 2027)", "current", "encryption"),
        ("CN=Alice (encryption 2026)", "historic", "decryption only"),
    ]


def test_expiring_soon_is_flagged_30_days_ahead(services: InboxServices) -> None:
    data = p12(expiring_soon())
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert preview.warnings == (f"the certificate expires on {NOW + timedelta(days=10):%Y-%m-%d}",)
    install.install_p12(
        services, data, P12_PASSWORD, "both", source="p12:erin", now=NOW, from_mail=False
    )

    [row] = install.identity_rows(services, now=NOW)
    assert row.expires_soon
    assert not row.expired
    assert row.warning is not None
    assert row.warning.startswith("expires on")
    # 31 days before the end: no warning yet; after the end: expired.
    [early] = install.identity_rows(services, now=NOW - timedelta(days=21))
    assert (early.expires_soon, early.warning) == (False, None)
    [late] = install.identity_rows(services, now=NOW + timedelta(days=11))
    assert (late.expired, late.expires_soon) == (True, False)
    assert late.warning is not None
    assert late.warning.startswith("expired on")


def test_export_a_public_certificate(
    pki: StandardPKI, services: InboxServices, tmp_path: Path
) -> None:
    [entry] = install.install_p12(
        services, p12(pki.alice), P12_PASSWORD, "both", source="p", now=NOW, from_mail=False
    )
    pem = install.export_certificate(services, entry.sha256)
    assert x509.load_pem_x509_certificate(pem) == pki.alice.cert
    der = install.export_certificate(services, entry.sha256, der=True)
    assert x509.load_der_x509_certificate(der) == pki.alice.cert
    assert b"PRIVATE" not in pem

    saved = install.save_certificate(services, entry.sha256, tmp_path / "alice.pem")
    assert saved.read_bytes() == pem
    assert install.save_certificate(services, entry.sha256, tmp_path / "a.cer").read_bytes() == der
    with pytest.raises(CredentialsError):
        install.export_certificate(services, "00" * 32)


# ---------------------------------------------------------------------------- .p12 by mail


def test_a_self_signed_key_for_my_address_from_mail_is_refused(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    my_alice_home(services, pki)
    before = snapshot(services, secrets)
    data = p12(self_signed_alice())

    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW, from_mail=True)

    assert not preview.trusted
    assert preview.trust_text().startswith("Not trusted: the certificate is self-signed")
    assert preview.own_address
    assert preview.refusal is not None
    assert "trusted certificate authority" in preview.refusal
    assert "\n" not in preview.refusal
    assert not preview.installable
    # The preview still says what it would have replaced.
    assert [r.text() for r in preview.replacements("encryption")] == [
        "This replaces your current encryption certificate CN=Alice (alice@example.com), "
        f"valid until {pki.alice.cert.not_valid_after_utc:%Y-%m-%d}"
    ]
    for use in install.USE_CHOICES:
        with pytest.raises(CredentialsError) as caught:
            install.install_p12(
                services, data, P12_PASSWORD, use, source="mail:alice.p12", now=NOW
            )  # from_mail is the default
        assert "\n" not in str(caught.value)
        assert "self-signed" in str(caught.value)
    assert snapshot(services, secrets) == before  # byte for byte, keyring included
    current = services.keystore.current("alice@example.com", "encrypt")
    assert current is not None
    assert current.sha256 == fingerprint(pki.alice.cert)


def test_the_same_key_from_a_file_is_allowed_with_the_warnings(
    pki: StandardPKI, services: InboxServices
) -> None:
    my_alice_home(services, pki)
    data = p12(self_signed_alice())
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW, from_mail=False)
    assert not preview.trusted
    assert preview.refusal is None
    assert preview.installable
    assert {r.use for r in preview.replacements("both")} == {"signing", "encryption"}
    assert [r.use for r in preview.replacements("signing")] == ["signing"]

    [entry] = install.install_p12(
        services, data, P12_PASSWORD, "both", source="p12:self.p12", now=NOW, from_mail=False
    )
    assert entry.state == "current"
    old = services.keystore.find(fingerprint(pki.alice.cert))
    assert old.state == "historic"


def test_a_trusted_renewal_from_mail_is_installed_and_said_to_replace_mine(
    pki: StandardPKI, services: InboxServices
) -> None:
    my_alice_home(services, pki)
    data = p12(renewed_alice())

    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)

    assert preview.trusted
    assert preview.trust_text() == (
        "Trusted: issued by CN=Inbox Test Mail CA, which chains to the trust anchor "
        "CN=Inbox Test Root"
    )
    assert preview.own_address
    assert preview.refusal is None
    assert preview.installable
    until = f"{pki.alice.cert.not_valid_after_utc:%Y-%m-%d}"
    assert [r.text() for r in preview.replacements("both")] == [
        f"This replaces your current signing certificate CN=Alice (alice@example.com), "
        f"valid until {until}",
        f"This replaces your current encryption certificate CN=Alice (alice@example.com), "
        f"valid until {until}",
    ]
    assert all(r.sha256 == fingerprint(pki.alice.cert) for r in preview.replaces)

    [entry] = install.install_p12(
        services, data, P12_PASSWORD, "both", source="mail:renewal.p12", now=NOW
    )
    assert (entry.state, entry.uses, entry.source) == (
        "current",
        {"sign", "encrypt"},
        "mail:renewal.p12",
    )
    assert services.keystore.find(fingerprint(pki.alice.cert)).state == "historic"
    # Installed, it replaces nothing any more.
    again = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert again.replaces == ()


def test_a_trusted_key_for_someone_else_from_mail_is_refused(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    my_alice_home(services, pki)
    before = snapshot(services, secrets)
    data = p12(pki.bob)
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert preview.trusted
    assert not preview.own_address
    assert preview.refusal is not None
    assert "bob@example.org" in preview.refusal
    assert "none of your accounts" in preview.refusal
    with pytest.raises(CredentialsError, match="none of your accounts"):
        install.install_p12(services, data, P12_PASSWORD, "both", source="mail:bob", now=NOW)
    assert snapshot(services, secrets) == before
    # From a file the user opened, it is theirs to decide.
    assert install.inspect_p12(services, data, P12_PASSWORD, now=NOW, from_mail=False).installable


def test_a_key_from_an_authority_nobody_trusts_is_refused_from_mail(
    pki: StandardPKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    install.add_local_account(services, "Alice", "alice@example.com")  # no anchors at all
    before = snapshot(services, secrets)
    preview = install.inspect_p12(services, p12(pki.alice), P12_PASSWORD, now=NOW)
    assert not preview.trusted
    assert "no path to a trusted certificate authority" in preview.trust_reason
    assert preview.refusal is not None
    with pytest.raises(CredentialsError, match="trusted certificate authority"):
        install.install_p12(
            services, p12(pki.alice), P12_PASSWORD, "both", source="mail:a", now=NOW
        )
    assert snapshot(services, secrets) == before


def test_an_expired_key_by_mail_is_refused(ppki: ProfilePKI, services: InboxServices) -> None:
    trust_mail_ca(services, standard_pki())
    install.add_local_account(services, "Alice", "alice@example.com")
    data = p12(ppki.alice_archived)
    preview = install.inspect_p12(services, data, P12_PASSWORD, now=NOW)
    assert not preview.trusted
    assert "expired" in preview.trust_reason
    assert preview.replacements("both") == ()  # installed as historic, it replaces nothing
    with pytest.raises(CredentialsError, match="trusted certificate authority"):
        install.install_p12(services, data, P12_PASSWORD, "encryption", source="m", now=NOW)


FORGED = "Mallory\nAddresses: evil@example.net\u202egpj.exe"


def test_names_cannot_forge_lines_of_the_p12_preview(
    pki: StandardPKI, services: InboxServices
) -> None:
    ca = make_ca(FORGED, issuer=pki.root, slot=66, path_length=0)
    leaf = make_leaf(ca, "alice@example.com", cn=FORGED, slot=67, key_usage="both")
    my_alice_home(services, pki)
    preview = install.inspect_p12(services, p12(leaf), P12_PASSWORD, now=NOW)
    texts = [
        preview.subject,
        preview.issuer,
        *preview.chain,
        preview.trust_text(),
        *(r.text() for r in preview.replaces),
    ]
    assert "Mallory Addresses: evil@example.net gpj.exe" in preview.subject
    for text in texts:
        assert "\n" not in text
        assert "\u202e" not in text
    assert preview.trusted  # a strange name is no reason to distrust a valid path


# ---------------------------------------------------------------------------- files


def test_credential_files_go_by_their_content(
    pki: StandardPKI, ppki: ProfilePKI, services: InboxServices, tmp_path: Path
) -> None:
    key = tmp_path / "alice.bin"  # a .p12 saved under another name
    key.write_bytes(p12(pki.alice))
    opened = install.open_credential_file(services, key)
    assert (opened.kind, opened.data, opened.name) == (FileKind.P12, key.read_bytes(), "alice.bin")
    assert install.inspect_p12(services, opened.data, P12_PASSWORD, now=NOW).subject == "CN=Alice"

    config = tmp_path / "work.xml"
    config.write_bytes(mail_profile(ppki))
    assert install.open_credential_file(services, config).kind is FileKind.PROFILE

    mail = tmp_path / "letter.p12"  # a message, whatever its name says
    mail.write_bytes(message())
    with pytest.raises(OpenFileError, match="is a message"):
        install.open_credential_file(services, mail)


@pytest.mark.parametrize("name", ["missing.p12", "folder", "empty.p12", "notes.txt"])
def test_unreadable_credential_files_are_one_line_errors(
    services: InboxServices, tmp_path: Path, name: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.p12").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(OpenFileError) as caught:
        install.open_credential_file(services, tmp_path / name)
    assert "\n" not in str(caught.value)
    assert not services.home.exists()


# ---------------------------------------------------------------------------- profiles


def test_unsigned_profile_preview_lists_its_contents(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = mail_profile(ppki)
    preview = install.inspect_profile(services, data, now=NOW, from_mail=False)
    assert snapshot(services, secrets) == {}

    assert preview.signer_status == install.SIGNER_UNSIGNED
    assert preview.signer is None
    assert preview.needs_consent
    assert preview.installable
    assert preview.signer_text().startswith("Unsigned")
    assert (preview.identifier, preview.display_name) == (
        "com.example.mdm.mail",
        "Example Corp mail",
    )
    assert [(i.subject, i.use, i.exportable) for i in preview.identities] == [
        ("CN=Alice (signing)", "signing", True),
        ("CN=Alice (encryption 2026)", "encryption", False),
    ]
    assert preview.anchors == ("CN=Inbox Test Root",)
    [account] = preview.accounts
    assert account.email == "alice@example.com"
    assert (account.incoming, account.outgoing) == ("imap.example.com:993", "smtp.example.com:587")
    assert account.supported
    assert account.sign_by_default
    assert account.encrypt_by_default
    assert preview.installed == "new"

    # Without consent to read unsigned contents, only the status.
    bare = install.inspect_profile(services, data, now=NOW, allow_unsigned=False, from_mail=False)
    assert bare.signer_status == install.SIGNER_UNSIGNED
    assert bare.identities == ()


def test_unsigned_profile_needs_consent_to_install(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = mail_profile(ppki)
    with pytest.raises(ProfileSignatureError):
        install.install_profile(services, data, now=NOW, from_mail=False)
    assert snapshot(services, secrets) == {}

    result = install.install_profile(services, data, now=NOW, allow_unsigned=True, from_mail=False)
    assert result.changed
    assert [a.email for a in services.accounts.accounts()] == ["alice@example.com"]
    assert any("added the account" in note for note in result.notes)
    rows = install.identity_rows(services, now=NOW)
    assert {(row.subject, row.use, row.source) for row in rows} == {
        ("CN=Alice (signing)", "signing", "profile:com.example.mdm.mail"),
        ("CN=Alice (encryption 2026)", "encryption", "profile:com.example.mdm.mail"),
    }
    [row] = install.profile_rows(services)
    assert (row.identifier, row.display_name, row.signed_by) == (
        "com.example.mdm.mail",
        "Example Corp mail",
        None,
    )
    assert (row.identities, row.accounts, row.anchors) == (2, ("alice@example.com",), 1)


def test_an_unsigned_profile_from_mail_cannot_be_installed(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = mail_profile(ppki)
    preview = install.inspect_profile(services, data, now=NOW)  # from mail by default
    assert preview.signer_status == install.SIGNER_UNSIGNED
    assert preview.problem == install.PROFILE_UNSIGNED_BY_MAIL
    assert "\n" not in install.PROFILE_UNSIGNED_BY_MAIL
    assert not preview.installable
    assert preview.identities == ()  # not read past its missing signature
    assert preview.anchors == ()
    for allow_unsigned in (False, True):
        with pytest.raises(ProfileSignatureError) as caught:
            install.install_profile(services, data, now=NOW, allow_unsigned=allow_unsigned)
        assert str(caught.value) == install.PROFILE_UNSIGNED_BY_MAIL
    assert snapshot(services, secrets) == {}
    assert services.accounts.accounts() == []


def test_a_signed_profile_from_mail_installs(ppki: ProfilePKI, services: InboxServices) -> None:
    trust_mdm(services, ppki)
    data = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    preview = install.inspect_profile(services, data, now=NOW, from_mail=True)
    assert preview.installable
    assert install.install_profile(services, data, now=NOW, from_mail=True).changed


def test_consent_from_a_file_names_the_anchors_it_adds(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    preview = install.inspect_profile(services, mail_profile(ppki), now=NOW, from_mail=False)
    assert preview.installable
    assert preview.needs_consent
    assert preview.consent_text().splitlines() == [
        "I trust where this unsigned profile came from: install it and trust this "
        "certificate authority for mail:",
        "• CN=Inbox Test Root",
    ]
    none = install.inspect_profile(
        services, profile([pkcs12_payload(ppki.alice_sign, "S1")]), now=NOW, from_mail=False
    )
    assert none.consent_text().endswith("(it adds no certificate authority)")

    many = [make_ca(f"CA {n}\nforged\u202e", slot=300 + n).cert for n in range(5)]
    data = profile([certificate_payload(cert, f"ROOT-{n}") for n, cert in enumerate(many)])
    lines = install.inspect_profile(services, data, now=NOW, from_mail=False).consent_text()
    assert lines.splitlines()[0].endswith("trust these 5 certificate authorities for mail:")
    assert [line[:17] for line in lines.splitlines()[1:]] == [
        "• CN=CA 0 forged ",
        "• CN=CA 1 forged ",
        "• CN=CA 2 forged ",
        "• and 2 more (lis",
    ]
    assert "\u202e" not in lines
    # A long name is cut: the question stays on the screen.
    long = install.ProfilePreview(
        signer_status=install.SIGNER_UNSIGNED, signer=None, reason="", anchors=("CN=" + "x" * 500,)
    )
    [_, anchor] = long.consent_text().splitlines()
    assert len(anchor) == len("• ") + 80
    assert anchor.endswith("x…")


def test_names_cannot_forge_lines_of_the_profile_preview(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    data = mail_profile(ppki, name=FORGED)  # (identifiers are checked printable on reading)
    preview = install.inspect_profile(services, data, now=NOW, from_mail=False)
    fields = [
        preview.display_name or "",
        preview.identifier or "",
        *preview.anchors,
        *preview.notes,
        *(i.subject for i in preview.identities),
    ]
    for text in fields:
        assert "\n" not in text
        assert "\u202e" not in text


def test_signed_profile_preview_names_the_verified_signer(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    trust_mdm(services, ppki)
    data = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    preview = install.inspect_profile(services, data, now=NOW)
    assert preview.signer_status == install.SIGNER_VERIFIED
    assert preview.signer == "CN=mdm.example.com"
    assert preview.signer_text() == "Verified: signed by CN=mdm.example.com"
    assert preview.installable
    assert not preview.needs_consent
    assert len(preview.identities) == 2

    result = install.install_profile(services, data, now=NOW)
    assert result.profile.signed_by == "CN=mdm.example.com"
    assert install.inspect_profile(services, data, now=NOW).installed == "same"
    newer = engine_sign(ppki.mdm_signer, mail_profile(ppki, uuid="PROFILE-V2"))
    assert install.inspect_profile(services, newer, now=NOW).installed == "update"
    # A new version must come from the same signer: an unsigned one cannot replace it.
    unsigned = install.inspect_profile(
        services, mail_profile(ppki, uuid="PROFILE-V3"), now=NOW, from_mail=False
    )
    assert unsigned.problem is not None
    assert not unsigned.installable


def test_profile_from_an_untrusted_signer_lists_nothing(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    trust_mdm(services, ppki)
    before = snapshot(services, secrets)
    data = engine_sign(ppki.rogue_signer, mail_profile(ppki))
    preview = install.inspect_profile(services, data, now=NOW)
    assert preview.signer_status == install.SIGNER_UNTRUSTED
    assert not preview.installable
    assert preview.identities == ()
    assert preview.signer_text().startswith("Untrusted: ")
    assert "\n" not in preview.signer_text()
    with pytest.raises(ProfileSignatureError):
        install.install_profile(services, data, now=NOW, allow_unsigned=True, from_mail=False)
    assert snapshot(services, secrets) == before


def test_tampered_profile_is_invalid(ppki: ProfilePKI, services: InboxServices) -> None:
    trust_mdm(services, ppki)
    signed = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    tampered = signed.replace(b"imap.example.com", b"imap.evil-ex.com", 1)
    preview = install.inspect_profile(services, tampered, now=NOW)
    assert preview.signer_status == install.SIGNER_INVALID
    assert not preview.installable


def test_profile_with_a_wrong_p12_password_is_an_error(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1", p12_password="not-the-stated-one"),
            mail_payload(signing="S1", encryption="E1"),
        ]
    )
    with pytest.raises(ProfileError) as caught:
        install.inspect_profile(services, data, now=NOW, from_mail=False)
    assert "\n" not in str(caught.value)
    with pytest.raises(ProfileError):
        install.install_profile(services, data, now=NOW, allow_unsigned=True, from_mail=False)
    assert snapshot(services, secrets) == {}


def test_installing_a_profile_twice_changes_nothing(
    ppki: ProfilePKI, services: InboxServices, secrets: MemorySecretStore
) -> None:
    data = mail_profile(ppki)
    assert install.install_profile(
        services, data, now=NOW, allow_unsigned=True, from_mail=False
    ).changed
    before = snapshot(services, secrets)
    again = install.install_profile(services, data, now=NOW, allow_unsigned=True, from_mail=False)
    assert not again.changed
    assert snapshot(services, secrets) == before
    assert len(install.identity_rows(services, now=NOW)) == 2


def test_bundle_preview_lists_archived_keys_as_decryption_only(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    data = bundle(
        signing=(ppki.alice_sign, "a"),
        encryption=(ppki.alice_enc, "b"),
        archived=[(ppki.alice_archived, "c")],
    )
    preview = install.inspect_profile(services, data, now=NOW, from_mail=False)
    assert preview.signer_status == install.SIGNER_UNSIGNED
    assert [i.use for i in preview.identities] == ["signing", "encryption", "decryption only"]
    install.install_profile(services, data, now=NOW, allow_unsigned=True, from_mail=False)
    rows = install.identity_rows(services, now=NOW)
    assert sorted((row.state, row.use) for row in rows) == [
        ("current", "encryption"),
        ("current", "signing"),
        ("historic", "decryption only"),
    ]


def test_removing_a_profile_removes_its_account_and_keeps_decryption_keys(
    ppki: ProfilePKI, services: InboxServices
) -> None:
    install.install_profile(
        services, mail_profile(ppki), now=NOW, allow_unsigned=True, from_mail=False
    )
    result = install.remove_profile(services, "com.example.mdm.mail")
    assert result.identifier == "com.example.mdm.mail"
    assert services.accounts.accounts() == []
    assert install.profile_rows(services) == []
    [row] = install.identity_rows(services, now=NOW)
    assert (row.subject, row.state) == ("CN=Alice (encryption 2026)", "historic")
    with pytest.raises(ProfileError):
        install.remove_profile(services, "com.example.mdm.mail")


# ---------------------------------------------------------------------------- the manager


def test_anchor_rows_name_where_each_anchor_comes_from(
    pki: StandardPKI, ppki: ProfilePKI, services: InboxServices
) -> None:
    anchors = services.home / "anchors"
    anchors.mkdir(parents=True)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    trust_mdm(services, ppki)
    install.install_profile(
        services, mail_profile(ppki), now=NOW, allow_unsigned=True, from_mail=False
    )
    rows = install.anchor_rows(services, now=NOW)
    assert [(row.subject, row.origin) for row in rows] == [
        ("CN=Inbox Test Root", install.ANCHOR_APP),
        ("CN=Inbox Test Root", "profile com.example.mdm.mail"),
        ("CN=Example MDM Root", install.ANCHOR_PROFILE_SIGNER),
    ]
    assert not any(row.expired for row in rows)
    assert rows[0].sha256 == fingerprint(pki.root.cert)


def _signed_by(issued: Issued, *, at: timedelta) -> bytes:
    return sign_message(message(), issued.identity, now=NOW + at)


def test_contact_rows_show_a_changed_key_until_confirmed(
    pki: StandardPKI, services: InboxServices
) -> None:
    trust = services.secure_mail.trust_store([pki.root.cert])
    alice_again = make_leaf(
        pki.intermediate, "alice@example.com", cn="Alice 2", slot=63, key_usage="both"
    )
    for issued, at in ((pki.alice, timedelta(0)), (alice_again, timedelta(hours=1))):
        report = open_message(_signed_by(issued, at=at), trust=trust, now=NOW + at)
        services.contacts.harvest(report, now=NOW + at)

    [row] = install.contact_rows(services, now=NOW)
    assert (row.address, row.sha256, row.source) == (
        "alice@example.com",
        fingerprint(pki.alice.cert),
        "harvested",
    )
    assert row.pending_sha256 == fingerprint(alice_again.cert)
    assert row.pending_subject == "CN=Alice 2"

    confirmed = install.confirm_contact(services, row.address, row.pending_sha256, now=NOW)
    assert confirmed.sha256 == fingerprint(alice_again.cert)
    assert confirmed.pending_sha256 is None
    with pytest.raises(CredentialsError):
        install.confirm_contact(services, "nobody@example.com", "00" * 32, now=NOW)


# ---------------------------------------------------------------------------- accounts


def test_add_an_account_by_hand(
    services: InboxServices, secrets: MemorySecretStore, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(standard_pki().root.pem())
    account = install.add_account_by_hand(
        services,
        "work",
        "alice@example.com",
        imap="imap.example.com:993",
        smtp="smtp.example.com:587",
        username="alice",
        password="imap-secret",
        tls="starttls",
        ca_file=str(ca),
    )
    assert account.imap is not None
    assert (account.imap.host, account.imap.port, account.imap.tls) == (
        "imap.example.com",
        993,
        "starttls",
    )
    assert account.imap.ca_file == str(ca)
    assert services.accounts.password("work") == "imap-secret"
    assert "imap-secret" not in (services.home / "accounts.json").read_text()


@pytest.mark.parametrize(
    ("changes", "message_part"),
    [
        ({"imap": "imap.example.com"}, "HOST:PORT"),
        ({"password": ""}, "password"),
        ({"ca_file": "/nonexistent/ca.pem"}, "CA file"),
        ({"tls": "none"}, "TLS mode"),
    ],
)
def test_bad_account_settings_are_refused(
    services: InboxServices,
    secrets: MemorySecretStore,
    changes: dict[str, str],
    message_part: str,
) -> None:
    settings = {
        "imap": "imap.example.com:993",
        "smtp": "smtp.example.com:465",
        "username": "alice",
        "password": "pw",
        "tls": "ssl",
        "ca_file": None,
        **changes,
    }
    with pytest.raises(AccountError, match=message_part):
        install.add_account_by_hand(services, "work", "alice@example.com", **settings)  # type: ignore[arg-type]
    assert services.accounts.accounts() == []
    assert secrets.values == {}


def test_add_a_local_account(services: InboxServices) -> None:
    account = install.add_local_account(services, "Local", "me@localhost")
    assert account.local
    assert [a.name for a in services.accounts.accounts()] == ["Local"]
    with pytest.raises(AccountError, match="already exists"):
        install.add_local_account(services, "Local", "me@localhost")
