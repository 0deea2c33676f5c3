"""Contacts' certificates: harvested from verified mail, imported, chosen for encryption."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.cli import contact_commands
from inbox_app.credentials.contacts import (
    ADDED,
    CHANGED,
    HARVESTED,
    IMPORTED,
    REPLACED,
    RSAES_OAEP,
    UNCHANGED,
    UPDATED,
    ContactStore,
    normalize_address,
)
from inbox_app.credentials.errors import CredentialsError
from inbox_app.errors import InboxError
from inbox_app.services.app import InboxServices
from inbox_app.smime import Identity, Report, SignatureStatus, TrustStore, open_message
from inbox_app.smime import sign_message as smime_sign
from inbox_app.smime.certificates import fingerprint
from tests.pki import NOW, Issued, StandardPKI, make_ca, make_leaf, message, standard_pki

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def trust(pki: StandardPKI) -> TrustStore:
    return TrustStore([pki.root.cert])


def signed_report(
    pki: StandardPKI,
    signer: Issued | Identity,
    *,
    sender: str = "Alice <alice@example.com>",
    signed_at: timedelta = timedelta(0),
    opened_at: timedelta = timedelta(0),
    anchors: TrustStore | None = None,
    encryption_certificate: x509.Certificate | None = None,
    tamper: bool = False,
) -> Report:
    identity = signer if isinstance(signer, Identity) else signer.identity
    raw = smime_sign(
        message(sender),
        identity,
        now=NOW + signed_at,
        encryption_certificate=encryption_certificate,
    )
    if tamper:
        raw = raw.replace(b"see you tomorrow", b"see you at noon!")
    return open_message(raw, trust=anchors or trust(pki), now=NOW + opened_at)


@functools.cache
def alice_again() -> Issued:
    """A second (different key) certificate for alice@example.com."""
    return make_leaf(
        standard_pki().intermediate, "alice@example.com", cn="Alice 2", slot=22, key_usage="both"
    )


def store_of(tmp_path: Path) -> ContactStore:
    return ContactStore(tmp_path / "home")


# ---------------------------------------------------------------------- harvesting


def test_harvest_stores_the_verified_senders_certificate(pki: StandardPKI, tmp_path: Path) -> None:
    report = signed_report(pki, pki.alice)
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    store = store_of(tmp_path)

    changes = store.harvest(report, now=NOW)

    assert [(c.address, c.action, c.sha256) for c in changes] == [
        ("alice@example.com", ADDED, fingerprint(pki.alice.cert))
    ]
    [contact] = store.contacts()
    assert contact.certificate == pki.alice.cert
    assert contact.source == HARVESTED
    assert contact.first_seen == NOW
    assert contact.last_signing_time == NOW
    assert contact.capabilities == report.signed_layers[0].capabilities
    assert contact.capabilities  # sign_message announces its ciphers
    assert pki.intermediate.cert in contact.chain
    assert contact.changed is None
    assert store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW) == (
        pki.alice.cert
    )
    # Stored privately, versioned.
    home = tmp_path / "home"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "contacts.json").stat().st_mode) == 0o600
    data = json.loads((home / "contacts.json").read_text())
    assert data["version"] == 1
    assert data["contacts"][0]["address"] == "alice@example.com"
    assert data["contacts"][0]["source"] == "harvested"
    assert data["contacts"][0]["changed"] is None


@pytest.mark.parametrize("case", ["tampered", "untrusted", "sender mismatch", "expired"])
def test_harvest_ignores_mail_that_did_not_verify(
    pki: StandardPKI, tmp_path: Path, case: str
) -> None:
    if case == "tampered":
        report = signed_report(pki, pki.alice, tamper=True)
    elif case == "untrusted":
        other_root = make_ca("Some Other Root", slot=30)
        report = signed_report(pki, pki.alice, anchors=TrustStore([other_root.cert]))
    elif case == "sender mismatch":
        report = signed_report(pki, pki.alice, sender="Mallory <mallory@example.com>")
    else:
        report = signed_report(pki, pki.alice, opened_at=timedelta(days=400))
    assert not report.ok, case
    store = store_of(tmp_path)
    assert store.harvest(report, now=NOW) == []
    assert store.contacts() == []
    assert not (tmp_path / "home" / "contacts.json").exists()


def test_harvest_ignores_a_forged_report_without_sender_match(
    pki: StandardPKI, tmp_path: Path
) -> None:
    report = signed_report(pki, pki.alice)
    report.sender_match = None
    assert store_of(tmp_path).harvest(report, now=NOW) == []
    report.sender_match = True
    report.signature = SignatureStatus.WEAK
    assert store_of(tmp_path).harvest(report, now=NOW) == []


def test_harvest_learns_only_the_from_address(pki: StandardPKI, tmp_path: Path) -> None:
    both = make_leaf(
        pki.intermediate,
        ["alice@example.com", "alice@elsewhere.org"],
        cn="Alice",
        slot=23,
        key_usage="both",
    )
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, both, sender="alice@EXAMPLE.com"), now=NOW)
    assert [contact.address for contact in store.contacts()] == ["alice@example.com"]
    assert store.find("alice@elsewhere.org") is None
    # Domain case-blind, local part exact (RFC 5321).
    assert store.find("alice@Example.COM") is not None
    assert store.find("Alice@example.com") is None


def test_harvest_remembers_the_preferred_encryption_certificate(
    pki: StandardPKI, tmp_path: Path
) -> None:
    signing = make_leaf(pki.intermediate, "alice@example.com", slot=24, key_usage="sign")
    encrypting = make_leaf(pki.intermediate, "alice@example.com", slot=25, key_usage="encrypt")
    # sign_message announces the preference but does not add the certificate to the
    # message: only the identity's chain travels. Put it in the chain to send it along.
    carrying = Identity(signing.cert, signing.key, (encrypting.cert, *signing.chain))
    store = store_of(tmp_path)

    report = signed_report(pki, carrying, encryption_certificate=encrypting.cert)
    assert report.signed_layers[0].encryption_key_preference is not None
    store.harvest(report, now=NOW)

    [contact] = store.contacts()
    assert contact.certificate == encrypting.cert
    assert pki.intermediate.cert in contact.chain
    assert store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW) == (
        encrypting.cert
    )


def test_preferred_certificate_travels_with_the_signature(pki: StandardPKI, tmp_path: Path) -> None:
    """sign_message carries the certificate SMIMEEncryptionKeyPreference names (RFC 8551
    §2.5.3), so the contact learns it even from a signing-only certificate."""
    encrypting = make_leaf(pki.intermediate, "alice@example.com", slot=25, key_usage="encrypt")
    signing = make_leaf(pki.intermediate, "alice@example.com", slot=24, key_usage="sign")
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, signing, encryption_certificate=encrypting.cert), now=NOW)
    assert store.contacts()[0].certificate == encrypting.cert


def test_capabilities_follow_only_newer_signing_times(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    report = signed_report(pki, pki.alice, signed_at=-HOUR)
    store.harvest(report, now=NOW)
    assert not store.wants_oaep("alice@example.com")
    original = store.contacts()[0].capabilities

    def with_capabilities(signed_at: timedelta) -> Report:
        layer = dataclasses.replace(
            report.signed_layers[0],
            capabilities=(RSAES_OAEP, *original),
            signing_time=NOW + signed_at,
        )
        return dataclasses.replace(report, signed_layers=[layer])

    # Older mail (or the same signing time) changes nothing.
    assert [c.action for c in store.harvest(with_capabilities(-2 * HOUR), now=NOW)] == [UNCHANGED]
    assert [c.action for c in store.harvest(with_capabilities(-HOUR), now=NOW)] == [UNCHANGED]
    assert store.contacts()[0].capabilities == original
    assert not store.wants_oaep("alice@example.com")

    # Newer mail updates them.
    assert [c.action for c in store.harvest(with_capabilities(HOUR), now=NOW)] == [UPDATED]
    contact = store.contacts()[0]
    assert contact.capabilities == (RSAES_OAEP, *original)
    assert contact.last_signing_time == NOW + HOUR
    assert store.wants_oaep("alice@example.com")
    assert store.wants_oaep("alice@EXAMPLE.com")
    assert not store.wants_oaep("nobody@example.com")

    # A real, newer message from the same client takes them back.
    store.harvest(signed_report(pki, pki.alice, signed_at=2 * HOUR), now=NOW)
    assert store.contacts()[0].capabilities == original


# ---------------------------------------------------------------------- changed keys


def test_a_changed_key_waits_for_confirmation(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, pki.alice), now=NOW)
    new = alice_again()

    changes = store.harvest(signed_report(pki, new, signed_at=HOUR), now=NOW + HOUR)

    assert [(c.action, c.sha256, c.previous) for c in changes] == [
        (CHANGED, fingerprint(new.cert), fingerprint(pki.alice.cert))
    ]
    assert "inbox-app contact confirm alice@example.com" in changes[0].describe()
    [contact] = store.contacts()
    assert contact.certificate == pki.alice.cert  # the old one stays in use
    assert contact.changed is not None
    assert contact.changed.certificate == new.cert
    assert contact.changed.seen == NOW + HOUR
    assert contact.to_json()["changed"] == fingerprint(new.cert)
    assert store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW) == (
        pki.alice.cert
    )
    # Seeing it again records nothing new.
    again = store.harvest(signed_report(pki, new, signed_at=HOUR), now=NOW + HOUR)
    assert [c.action for c in again] == [UNCHANGED]

    confirmed = store.confirm("alice@example.com", fingerprint(new.cert))

    assert confirmed.certificate == new.cert
    assert confirmed.changed is None
    assert confirmed.last_signing_time == NOW + HOUR
    assert store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW) == (
        new.cert
    )


def test_confirming_the_current_key_rejects_the_change(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, pki.alice), now=NOW)
    store.harvest(signed_report(pki, alice_again(), signed_at=HOUR), now=NOW)
    kept = store.confirm("alice@example.com", fingerprint(pki.alice.cert)[:16])
    assert kept.certificate == pki.alice.cert
    assert kept.changed is None
    with pytest.raises(CredentialsError, match="neither the current nor the changed"):
        store.confirm("alice@example.com", "0" * 64)
    with pytest.raises(CredentialsError, match=r"no certificate for bob@example\.org"):
        store.confirm("bob@example.org", "0" * 64)


def test_older_mail_with_another_key_is_not_a_change(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, alice_again()), now=NOW)
    assert store.harvest(signed_report(pki, pki.alice, signed_at=-DAY), now=NOW) == []
    assert store.contacts()[0].changed is None


def test_a_new_key_replaces_an_expired_one(pki: StandardPKI, tmp_path: Path) -> None:
    short = make_leaf(
        pki.intermediate, "alice@example.com", slot=26, key_usage="both", not_after=NOW + DAY
    )
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, short), now=NOW)
    later = 2 * DAY
    changes = store.harvest(
        signed_report(pki, alice_again(), signed_at=later, opened_at=later), now=NOW + later
    )
    assert [(c.action, c.previous) for c in changes] == [(REPLACED, fingerprint(short.cert))]
    contact = store.contacts()[0]
    assert contact.certificate == alice_again().cert
    assert contact.first_seen == NOW


def test_pending_change_is_named_when_the_old_key_is_unusable(
    pki: StandardPKI, tmp_path: Path
) -> None:
    short = make_leaf(
        pki.intermediate, "alice@example.com", slot=26, key_usage="both", not_after=NOW + DAY
    )
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, short), now=NOW)
    store.harvest(signed_report(pki, alice_again(), signed_at=HOUR), now=NOW + HOUR)
    with pytest.raises(CredentialsError) as caught:
        store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW + 2 * DAY)
    text = str(caught.value)
    assert "expired" in text
    assert "changed key awaiting confirmation" in text
    assert fingerprint(alice_again().cert) in text
    assert "\n" not in text


# ---------------------------------------------------------------------- import


def test_import_pem_with_its_chain(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    changes = store.import_file(pki.bob.pem() + pki.intermediate.pem(), now=NOW)
    assert [(c.address, c.action) for c in changes] == [("bob@example.org", ADDED)]
    [contact] = store.contacts()
    assert contact.source == IMPORTED
    assert contact.chain == (pki.intermediate.cert,)
    assert contact.capabilities == ()
    # The chain in the file lets a trust store holding only the root accept it.
    assert store.encryption_certificate("bob@example.org", trust=trust(pki), now=NOW) == (
        pki.bob.cert
    )
    assert not store.wants_oaep("bob@example.org")


def test_import_der_cer(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    changes = store.import_file(pki.carol.cert.public_bytes(Encoding.DER), now=NOW)
    assert [(c.address, c.action) for c in changes] == [("carol@example.net", ADDED)]
    # EC key (keyAgreement); the intermediate comes from the caller here.
    assert store.encryption_certificate(
        "carol@example.net", trust=trust(pki), now=NOW, intermediates=[pki.intermediate.cert]
    ) == (pki.carol.cert)
    with pytest.raises(CredentialsError, match="not trusted"):
        store.encryption_certificate("carol@example.net", trust=trust(pki), now=NOW)


@pytest.mark.parametrize("outform", ["DER", "PEM"])
def test_import_p7c(pki: StandardPKI, tmp_path: Path, openssl: str, outform: str) -> None:
    pem = tmp_path / "dave.pem"
    pem.write_bytes(pki.dave.pem() + pki.intermediate.pem())
    p7c = tmp_path / "dave.p7c"
    subprocess.run(
        [
            openssl,
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            str(pem),
            "-outform",
            outform,
            "-out",
            str(p7c),
        ],
        check=True,
        capture_output=True,
    )
    if outform == "PEM":
        assert b"-----BEGIN PKCS7-----" in p7c.read_bytes()
    store = store_of(tmp_path)
    changes = store.import_file(p7c.read_bytes(), now=NOW)
    assert [(c.address, c.action) for c in changes] == [("dave@example.com", ADDED)]
    contact = store.contacts()[0]
    assert contact.certificate == pki.dave.cert
    assert contact.chain == (pki.intermediate.cert,)
    assert store.encryption_certificate("dave@example.com", trust=trust(pki), now=NOW) == (
        pki.dave.cert
    )


def test_import_bare_base64_p7c(pki: StandardPKI, tmp_path: Path, openssl: str) -> None:
    pem = tmp_path / "bob.pem"
    pem.write_bytes(pki.bob.pem())
    result = subprocess.run(
        [openssl, "crl2pkcs7", "-nocrl", "-certfile", str(pem), "-outform", "PEM"],
        check=True,
        capture_output=True,
    )
    body = b"".join(line for line in result.stdout.splitlines() if not line.startswith(b"-----"))
    changes = store_of(tmp_path).import_file(body, now=NOW)
    assert [c.address for c in changes] == ["bob@example.org"]


def test_import_replaces_and_settles_a_pending_change(pki: StandardPKI, tmp_path: Path) -> None:
    store = store_of(tmp_path)
    store.harvest(signed_report(pki, pki.alice), now=NOW)
    store.harvest(signed_report(pki, alice_again(), signed_at=HOUR), now=NOW)
    assert store.contacts()[0].changed is not None

    same = store.import_file(pki.alice.pem(), now=NOW)
    assert [c.action for c in same] == [UNCHANGED]
    assert store.contacts()[0].changed is not None  # importing the old one decides nothing

    changes = store.import_file(alice_again().pem(), now=NOW + HOUR)
    assert [(c.action, c.previous) for c in changes] == [(REPLACED, fingerprint(pki.alice.cert))]
    contact = store.contacts()[0]
    assert contact.certificate == alice_again().cert
    assert contact.source == IMPORTED
    assert contact.changed is None
    assert contact.first_seen == NOW
    assert contact.capabilities  # learnt from Alice's mail, kept


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"\x30\x03"],
)
def test_import_refuses_what_is_not_a_certificate(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CredentialsError, match="not a certificate"):
        store_of(tmp_path).import_file(data, now=NOW)
    assert not (tmp_path / "home" / "contacts.json").exists()


def test_import_refuses_a_file_without_an_address(pki: StandardPKI, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="no end-entity certificate with a mail address"):
        store_of(tmp_path).import_file(pki.intermediate.pem() + pki.root.pem(), now=NOW)


# ---------------------------------------------------------------------- refusals


def test_no_certificate(tmp_path: Path, pki: StandardPKI) -> None:
    with pytest.raises(CredentialsError, match=r"no certificate for bob@example\.org"):
        store_of(tmp_path).encryption_certificate("bob@EXAMPLE.org", trust=trust(pki), now=NOW)


def test_refuses_an_expired_certificate(pki: StandardPKI, tmp_path: Path) -> None:
    old = make_leaf(
        pki.intermediate,
        "old@example.com",
        slot=27,
        key_usage="both",
        not_before=NOW - 400 * DAY,
        not_after=NOW - DAY,
    )
    store = store_of(tmp_path)
    store.import_file(old.pem() + pki.intermediate.pem(), now=NOW)
    with pytest.raises(CredentialsError, match=r"old@example.com expired on \d{4}-\d\d-\d\d$"):
        store.encryption_certificate("old@example.com", trust=trust(pki), now=NOW)


def test_refuses_an_untrusted_root(pki: StandardPKI, tmp_path: Path) -> None:
    rogue_root = make_ca("Rogue Root", slot=31)
    rogue = make_leaf(rogue_root, "bob@example.org", slot=28, key_usage="both")
    store = store_of(tmp_path)
    store.import_file(rogue.pem(), now=NOW)
    with pytest.raises(CredentialsError, match="is not trusted"):
        store.encryption_certificate("bob@example.org", trust=trust(pki), now=NOW)
    # Trusted when its root is an anchor.
    anchors = TrustStore([pki.root.cert, rogue_root.cert])
    assert store.encryption_certificate("bob@example.org", trust=anchors, now=NOW) == rogue.cert


def test_refuses_a_self_signed_certificate(pki: StandardPKI, tmp_path: Path) -> None:
    own = make_leaf(
        pki.intermediate, "eve@example.com", slot=29, key_usage="both", self_signed=True
    )
    store = store_of(tmp_path)
    store.import_file(own.pem(), now=NOW)
    with pytest.raises(CredentialsError, match=r"not trusted: .*self-signed"):
        store.encryption_certificate("eve@example.com", trust=trust(pki), now=NOW)


@pytest.mark.parametrize("key_kind", ["rsa2048", "p256"])
def test_refuses_a_signing_only_certificate(
    pki: StandardPKI, tmp_path: Path, key_kind: str
) -> None:
    signing = make_leaf(
        pki.intermediate, "sign@example.com", slot=24, key_kind=key_kind, key_usage="sign"
    )
    store = store_of(tmp_path)
    store.import_file(signing.pem() + pki.intermediate.pem(), now=NOW)
    with pytest.raises(CredentialsError, match="not fit for encryption: its key usage"):
        store.encryption_certificate("sign@example.com", trust=trust(pki), now=NOW)


def test_import_prefers_the_encryption_certificate(pki: StandardPKI, tmp_path: Path) -> None:
    signing = make_leaf(pki.intermediate, "alice@example.com", slot=24, key_usage="sign")
    encrypting = make_leaf(pki.intermediate, "alice@example.com", slot=25, key_usage="encrypt")
    store = store_of(tmp_path)
    store.import_file(signing.pem() + encrypting.pem() + pki.intermediate.pem(), now=NOW)
    assert store.encryption_certificate("alice@example.com", trust=trust(pki), now=NOW) == (
        encrypting.cert
    )


def test_damaged_or_newer_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "contacts.json").write_text("{not json")
    with pytest.raises(CredentialsError, match="is damaged"):
        ContactStore(home).contacts()
    (home / "contacts.json").write_text('{"version": 2, "contacts": []}')
    with pytest.raises(CredentialsError, match="newer Inbox"):
        ContactStore(home).contacts()


def test_normalize_address() -> None:
    assert normalize_address("Bob@Example.ORG") == "Bob@example.org"
    for bad in ("", "bob", "@example.org", "bob@", "b ob@example.org"):
        with pytest.raises(CredentialsError):
            normalize_address(bad)


def test_errors_are_inbox_errors() -> None:
    assert issubclass(CredentialsError, InboxError)


# ---------------------------------------------------------------------- CLI


class _Services(InboxServices):
    """InboxServices with the ``contacts`` property the CLI reaches the store through."""

    @functools.cached_property
    def contacts(self) -> ContactStore:
        return ContactStore(self.home)


def test_cli_import_list_confirm(
    pki: StandardPKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = _Services(tmp_path / "home")
    cert_file = tmp_path / "bob.pem"
    cert_file.write_bytes(pki.bob.pem() + pki.intermediate.pem())

    assert contact_commands.run_import(argparse.Namespace(file=str(cert_file)), services) == 0
    assert capsys.readouterr().out == f"added bob@example.org {fingerprint(pki.bob.cert)}\n"

    assert contact_commands.run_list(argparse.Namespace(json=True), services) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {
            "address": "bob@example.org",
            "sha256": fingerprint(pki.bob.cert),
            "subject": "CN=Bob",
            "not_after": pki.bob.cert.not_valid_after_utc.isoformat(),
            "source": "imported",
            "capabilities": [],
            "changed": None,
        }
    ]

    # A changed key harvested from Alice's mail, then confirmed on the command line.
    ContactStore(services.home).harvest(signed_report(pki, pki.alice), now=NOW)
    ContactStore(services.home).harvest(signed_report(pki, alice_again(), signed_at=HOUR), now=NOW)
    assert contact_commands.run_list(argparse.Namespace(json=False), services) == 0
    text = capsys.readouterr().out
    assert "alice@example.com" in text
    assert "CHANGED KEY" in text
    contact_commands.run_list(argparse.Namespace(json=True), services)
    by_address = {item["address"]: item for item in json.loads(capsys.readouterr().out)}
    assert by_address["alice@example.com"]["changed"] == fingerprint(alice_again().cert)
    assert by_address["alice@example.com"]["source"] == "harvested"

    args = argparse.Namespace(address="alice@example.com", sha256=fingerprint(alice_again().cert))
    assert contact_commands.run_confirm(args, services) == 0
    assert capsys.readouterr().out == (
        f"alice@example.com: using {fingerprint(alice_again().cert)}\n"
    )
    contact_commands.run_list(argparse.Namespace(json=True), services)
    by_address = {item["address"]: item for item in json.loads(capsys.readouterr().out)}
    assert by_address["alice@example.com"]["sha256"] == fingerprint(alice_again().cert)
    assert by_address["alice@example.com"]["changed"] is None


def test_cli_errors_are_one_line_inbox_errors(tmp_path: Path) -> None:
    services = _Services(tmp_path / "home")
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"junk")
    with pytest.raises(InboxError) as caught:
        contact_commands.run_import(argparse.Namespace(file=str(junk)), services)
    assert "\n" not in str(caught.value)
    with pytest.raises(InboxError):
        contact_commands.run_import(argparse.Namespace(file=str(tmp_path / "missing")), services)
    with pytest.raises(InboxError):
        contact_commands.run_confirm(
            argparse.Namespace(address="x@example.com", sha256="abcdef12"), services
        )


def test_cli_parsers_register(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    contact_commands.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["contact", "list", "--json"])
    assert args.handler is contact_commands.run_list
    assert args.json is True
    args = parser.parse_args(["contact", "confirm", "a@example.com", "ab" * 32])
    assert (args.address, args.handler) == ("a@example.com", contact_commands.run_confirm)
    args = parser.parse_args(["contact", "import", "a.p7c"])
    assert (args.file, args.handler) == ("a.p7c", contact_commands.run_import)
