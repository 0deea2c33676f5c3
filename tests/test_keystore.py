"""The keystore with an in-memory secret store: import, rules, wrapping, export, keyrings.

Every test gets a throwaway home and a :class:`MemorySecretStore`; the real Secret Service
is exercised end to end in ``test_keystore_secret_service.py``.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

import inbox_app.credentials.keystore as keystore_module
from inbox_app.cli import main as cli_main
from inbox_app.credentials.errors import CredentialsError, KeyringUnavailableError
from inbox_app.credentials.keystore import (
    CURRENT,
    ENCRYPT,
    HISTORIC,
    SIGN,
    Keystore,
    NewIdentity,
    StoredIdentity,
)
from inbox_app.credentials.secrets import SERVICE, MemorySecretStore, OsKeyring
from inbox_app.fileio import StorageError
from inbox_app.services.app import InboxServices
from inbox_app.smime import (
    EncryptionStatus,
    IdentityError,
    TrustStore,
    encrypt_message,
    load_identity,
    open_message,
)
from inbox_app.smime.certificates import fingerprint
from tests.pki import NOW, Issued, StandardPKI, make_leaf, message

PASSWORD = b"correct-horse-battery-staple-7731"
# DER-encoded OIDs: 1.2.840.113549.1.5.13, 2.16.840.1.101.3.4.1.42, 1.2.840.113549.1.12.1.x
PBES2_OID = bytes.fromhex("06092a864886f70d01050d")
AES256_CBC_OID = bytes.fromhex("060960864801650304012a")
PKCS12_PBE_OID_PREFIX = bytes.fromhex("060a2a864886f70d010c01")
CONTRACT_KEYS = {
    "sha256",
    "addresses",
    "subject",
    "not_before",
    "not_after",
    "use",
    "state",
    "exportable",
    "source",
}


# ---------------------------------------------------------------------------- helpers


@dataclass
class Env:
    home: Path
    secrets: MemorySecretStore
    keystore: Keystore

    def import_(self, issued: Issued, use: str = "both", **kwargs: Any) -> StoredIdentity:
        return self.keystore.import_p12(issued.p12(PASSWORD), PASSWORD, use=use, **kwargs)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    home = tmp_path / "home"
    secrets = MemorySecretStore()
    return Env(home, secrets, Keystore(home, secrets))


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every file and directory under ``root``: its mode and (for files) its bytes."""
    if not root.exists():
        return {}
    found: dict[str, tuple[int, bytes | None]] = {".": (root.stat().st_mode, None)}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        found[str(path.relative_to(root))] = (mode, path.read_bytes() if path.is_file() else None)
    return found


def files_under(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


def needles_for_key(issued: Issued) -> dict[str, bytes]:
    """The private key in every encoding a careless store might use."""
    der = issued.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    pem = issued.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    body_lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    b64 = base64.b64encode(der)
    needles = {
        "pkcs8 der": der,
        "pkcs8 der (middle 48 octets)": der[len(der) // 2 : len(der) // 2 + 48],
        "base64": b64,
        "base64 (urlsafe)": base64.urlsafe_b64encode(der),
        "base64 with LF": b"\n".join(body_lines),
        "base64 with CRLF": b"\r\n".join(body_lines),
        "base64 with JSON-escaped LF": b"\\n".join(body_lines),
        "pem body (first line)": body_lines[1],
        "hex": der.hex().encode(),
        "HEX": der.hex().upper().encode(),
    }
    if isinstance(issued.key, rsa.RSAPrivateKey):
        traditional = issued.key.private_bytes(
            Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption()
        )
        needles["pkcs1 der"] = traditional
        needles["pkcs1 base64"] = base64.b64encode(traditional)
        d = issued.key.private_numbers().d
        d_bytes = d.to_bytes((d.bit_length() + 7) // 8, "big")
        needles["rsa private exponent"] = d_bytes
        needles["rsa private exponent (hex)"] = d_bytes.hex().encode()
    return needles


def needles_for_password(password: bytes) -> dict[str, bytes]:
    return {
        "raw": password,
        "base64": base64.b64encode(password),
        "hex": password.hex().encode(),
        "utf-16-le": password.decode().encode("utf-16-le"),
        "utf-16-be (BMPString)": password.decode().encode("utf-16-be"),
    }


def assert_absent(root: Path, needles: dict[str, bytes], what: str) -> None:
    for path, data in files_under(root):
        for name, needle in needles.items():
            assert needle not in data, f"{what} ({name}) found in {path}"


def unfit_leaf(pki: StandardPKI, **kwargs: Any) -> Issued:
    kwargs.setdefault("cn", "Unfit")
    return make_leaf(pki.intermediate, **kwargs)


def open_with(keystore: Keystore, raw: bytes, pki: StandardPKI) -> Any:
    return open_message(
        raw,
        trust=TrustStore([pki.root.cert]),
        now=NOW,
        identities=keystore.decryption_identities(),
    )


# ---------------------------------------------------------------------------- import


@pytest.mark.parametrize("name", ["bob", "carol", "dave"])
def test_import_modern_p12_rsa_and_ec(env: Env, pki: StandardPKI, name: str) -> None:
    issued: Issued = getattr(pki, name)
    entry = env.import_(issued)
    assert entry.sha256 == fingerprint(issued.cert)
    assert entry.uses == frozenset({SIGN, ENCRYPT})
    assert entry.state == CURRENT
    assert entry.chain == issued.chain
    assert entry.exportable is True
    assert [e.sha256 for e in env.keystore.identities()] == [entry.sha256]
    unwrapped = env.keystore.identity(env.keystore.find(entry.sha256))
    assert unwrapped.certificate == issued.cert
    der = PrivateFormat.PKCS8
    assert unwrapped.private_key.private_bytes(
        Encoding.DER, der, NoEncryption()
    ) == issued.key.private_bytes(Encoding.DER, der, NoEncryption())
    assert unwrapped.historic is False


def test_modern_p12_of_the_test_pki_is_pbes2_aes(pki: StandardPKI) -> None:
    data = pki.bob.p12(PASSWORD)
    assert PBES2_OID in data
    assert AES256_CBC_OID in data
    assert PKCS12_PBE_OID_PREFIX not in data  # no pbeWithSHAAnd... (RC2, 3DES)


def test_import_legacy_rc2_40_p12(env: Env, interop: Path) -> None:
    path = interop / "thunderbird" / "expired-2019" / "Alice.p12"
    data = path.read_bytes()
    assert PKCS12_PBE_OID_PREFIX + b"\x06" in data  # pbeWithSHAAnd40BitRC2-CBC
    assert PBES2_OID not in data
    entry = env.keystore.import_p12(data, b"", use="both", source="p12:Alice.p12")
    assert entry.addresses == ("Alice@example.com",)
    assert entry.source == "p12:Alice.p12"
    assert env.keystore.current("Alice@example.com", ENCRYPT) == entry
    assert env.keystore.current("Alice@EXAMPLE.COM", SIGN) == entry  # the domain is case-blind
    identity = env.keystore.identity(entry)
    assert fingerprint(identity.certificate) == entry.sha256


def _wrong_password(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return pki.bob.p12(PASSWORD), b"not-the-password", "both"


def _no_password(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return pki.bob.p12(PASSWORD), None, "both"


def _corrupt(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    data = bytearray(pki.bob.p12(PASSWORD))
    data[len(data) // 2] ^= 0xFF
    return bytes(data), PASSWORD, "both"


def _truncated(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return pki.bob.p12(PASSWORD)[:200], PASSWORD, "both"


def _not_pkcs12(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return pki.bob.pem(), PASSWORD, "both"


def _key_mismatch(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    # cryptography refuses to pair a key with a foreign certificate directly, so the
    # foreign certificate travels next to the key: the key has no certificate of its own.
    data = pkcs12.serialize_key_and_certificates(
        b"mismatch", pki.alice.key, None, [pki.bob.cert], BestAvailableEncryption(PASSWORD)
    )
    return data, PASSWORD, "both"


def _no_email_protection(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    leaf = unfit_leaf(pki, slot=20, eku=[ExtendedKeyUsageOID.CLIENT_AUTH], key_usage="both")
    return leaf.p12(PASSWORD), PASSWORD, "both"


def _no_address(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return unfit_leaf(pki, email=None, slot=21, key_usage="both").p12(PASSWORD), PASSWORD, "both"


def _sign_only_for_encryption(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return unfit_leaf(pki, slot=22, key_usage="sign").p12(PASSWORD), PASSWORD, "encrypt"


def _sign_only_for_both(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return unfit_leaf(pki, slot=22, key_usage="sign").p12(PASSWORD), PASSWORD, "both"


def _encrypt_only_for_signing(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return unfit_leaf(pki, slot=23, key_usage="encrypt").p12(PASSWORD), PASSWORD, "sign"


def _ec_sign_only_for_encryption(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    leaf = unfit_leaf(pki, key_kind="p256", slot=24, key_usage="sign")
    return leaf.p12(PASSWORD), PASSWORD, "encrypt"


def _ec_encrypt_only_for_signing(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    leaf = unfit_leaf(pki, key_kind="p256", slot=24, key_usage="encrypt")
    return leaf.p12(PASSWORD), PASSWORD, "sign"


def _unknown_use(pki: StandardPKI) -> tuple[bytes, bytes | None, str]:
    return pki.bob.p12(PASSWORD), PASSWORD, "decrypt"


UNFIT: dict[str, Callable[[StandardPKI], tuple[bytes, bytes | None, str]]] = {
    "wrong password": _wrong_password,
    "no password": _no_password,
    "corrupt file": _corrupt,
    "truncated file": _truncated,
    "not pkcs12": _not_pkcs12,
    "key does not match certificate": _key_mismatch,
    "no emailProtection": _no_email_protection,
    "no address": _no_address,
    "sign-only KU, use encrypt": _sign_only_for_encryption,
    "sign-only KU, use both": _sign_only_for_both,
    "encrypt-only KU, use sign": _encrypt_only_for_signing,
    "EC sign-only KU, use encrypt": _ec_sign_only_for_encryption,
    "EC encrypt-only KU, use sign": _ec_encrypt_only_for_signing,
    "unknown use": _unknown_use,
}


@pytest.mark.parametrize("populated", [False, True], ids=["empty home", "populated home"])
@pytest.mark.parametrize("case", list(UNFIT), ids=list(UNFIT))
def test_refused_import_is_one_line_and_changes_nothing(
    env: Env, pki: StandardPKI, case: str, populated: bool
) -> None:
    data, password, use = UNFIT[case](pki)
    if populated:
        env.import_(pki.alice)
    before = snapshot(env.home)
    secrets_before = dict(env.secrets.values)
    with pytest.raises(CredentialsError) as caught:
        env.keystore.import_p12(data, password, use=use)
    text = str(caught.value)
    assert text
    assert "\n" not in text
    assert "\r" not in text
    assert PASSWORD.decode() not in text
    assert snapshot(env.home) == before
    assert env.secrets.values == secrets_before
    if not populated:
        assert not env.home.exists()


def test_key_mismatch_is_reported_as_such(pki: StandardPKI) -> None:
    data, password, _ = _key_mismatch(pki)
    with pytest.raises(IdentityError, match="certificate"):
        load_identity(data, password)


# ---------------------------------------------------------------------------- secrecy at rest


def test_no_password_and_no_private_key_bytes_under_the_home(
    env: Env, pki: StandardPKI, tmp_path: Path
) -> None:
    for issued in (pki.alice, pki.carol):
        env.import_(issued)
    renewed = make_leaf(pki.intermediate, "alice@example.com", cn="Alice 2", slot=30)
    env.import_(renewed, use="sign")
    exported = env.keystore.export_private(fingerprint(pki.carol.cert), b"export-pass-991")
    (tmp_path / "out.p12").write_bytes(exported)  # outside the home
    assert any(env.home.rglob("*.key"))
    for issued in (pki.alice, pki.carol, renewed):
        assert_absent(env.home, needles_for_key(issued), f"the private key of {issued.cert}")
    assert_absent(env.home, needles_for_password(PASSWORD), "the p12 password")
    # The keyring holds just the key-encryption key: 32 random octets, no key material.
    assert len(env.secrets.values) == 1
    (kek_text,) = env.secrets.values.values()
    assert len(base64.b64decode(kek_text, validate=True)) == 32
    for issued in (pki.alice, pki.carol, renewed):
        for needle in needles_for_key(issued).values():
            assert needle not in kek_text.encode()


def test_index_holds_certificates_but_no_secrets(env: Env, pki: StandardPKI) -> None:
    entry = env.import_(pki.bob)
    index = json.loads((env.home / "keystore" / "index.json").read_bytes())
    assert index["version"] == 1
    (item,) = index["identities"]
    assert "PRIVATE KEY" not in json.dumps(index)
    assert item["certificate"] == pki.bob.pem().decode()
    key_file = env.home / "keystore" / "keys" / f"{entry.sha256}.key"
    assert key_file.read_bytes().startswith(b"IBK1")


def test_permissions(env: Env, pki: StandardPKI) -> None:
    env.import_(pki.alice)
    env.import_(pki.carol, use="encrypt")
    directories = [env.home, env.home / "keystore", env.home / "keystore" / "keys"]
    for directory in directories:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    files = [path for path in env.home.rglob("*") if path.is_file()]
    assert len(files) == 3  # the index and two wrapped keys
    for path in env.home.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_loose_directory_permissions_are_tightened(env: Env, pki: StandardPKI) -> None:
    env.home.mkdir(mode=0o755)
    env.home.chmod(0o755)
    env.import_(pki.alice)
    assert stat.S_IMODE(env.home.stat().st_mode) == 0o700


# ---------------------------------------------------------------------------- rules


def test_new_encryption_identity_moves_the_previous_one_to_historic(
    env: Env, pki: StandardPKI
) -> None:
    old = make_leaf(
        pki.intermediate, "bob@example.org", cn="Bob 2025", slot=40, key_usage="encrypt"
    )
    new = make_leaf(
        pki.intermediate, "bob@example.org", cn="Bob 2026", slot=41, key_usage="encrypt"
    )
    signer = make_leaf(pki.intermediate, "bob@example.org", cn="Bob sig", slot=42, key_usage="sign")
    env.import_(signer, use="sign")
    old_entry = env.import_(old, use="encrypt")
    old_mail = encrypt_message(message(to="bob@example.org"), [old.cert], now=NOW)
    new_entry = env.import_(new, use="encrypt")

    states = {e.sha256: (e.state, e.uses) for e in env.keystore.identities()}
    assert states[old_entry.sha256] == (HISTORIC, frozenset({ENCRYPT}))
    assert states[new_entry.sha256] == (CURRENT, frozenset({ENCRYPT}))
    assert states[fingerprint(signer.cert)] == (CURRENT, frozenset({SIGN}))
    assert env.keystore.current("bob@example.org", ENCRYPT) == new_entry
    assert env.keystore.current("bob@example.org", SIGN).sha256 == fingerprint(signer.cert)  # type: ignore[union-attr]
    # Current keys come before historic ones.
    order = [fingerprint(i.certificate) for i in env.keystore.decryption_identities()]
    assert order.index(new_entry.sha256) < order.index(old_entry.sha256)

    report = open_with(env.keystore, old_mail, pki)
    assert report.encryption is EncryptionStatus.AEAD, report.error
    assert report.decrypted_with == old_entry.sha256
    assert report.historic_key is True
    new_mail = encrypt_message(message(to="bob@example.org"), [new.cert], now=NOW)
    report = open_with(env.keystore, new_mail, pki)
    assert report.decrypted_with == new_entry.sha256
    assert report.historic_key is False


def test_one_current_identity_per_use_and_address(env: Env, pki: StandardPKI) -> None:
    for slot in (50, 51, 52):
        leaf = make_leaf(pki.intermediate, "bob@example.org", cn=f"Bob {slot}", slot=slot)
        env.import_(leaf, use="sign")
        leaf = make_leaf(
            pki.intermediate,
            "bob@example.org",
            cn=f"Bob e{slot}",
            slot=slot + 10,
            key_usage="encrypt",
        )
        env.import_(leaf, use="encrypt")
    env.import_(pki.alice)  # another address is never touched
    for use in (SIGN, ENCRYPT):
        holders = [
            e
            for e in env.keystore.identities()
            if e.state == CURRENT and use in e.uses and "bob@example.org" in e.addresses
        ]
        assert len(holders) == 1, use
    alice = env.keystore.find(fingerprint(pki.alice.cert))
    assert (alice.state, alice.uses) == (CURRENT, frozenset({SIGN, ENCRYPT}))


def test_both_identity_replaced_for_encryption_stays_current_for_signing(
    env: Env, pki: StandardPKI
) -> None:
    both = env.import_(pki.alice)
    new = make_leaf(
        pki.intermediate, "alice@example.com", cn="Alice e", slot=60, key_usage="encrypt"
    )
    new_entry = env.import_(new, use="encrypt")
    old = env.keystore.find(both.sha256)
    assert old.state == CURRENT
    assert SIGN in old.uses
    assert env.keystore.current("alice@example.com", SIGN) == old
    assert env.keystore.current("alice@example.com", ENCRYPT) == new_entry


def test_both_identity_replaced_for_encryption_still_decrypts_old_mail(
    env: Env, pki: StandardPKI
) -> None:
    both = env.import_(pki.alice)
    old_mail = encrypt_message(message(to="alice@example.com"), [pki.alice.cert], now=NOW)
    new = make_leaf(
        pki.intermediate, "alice@example.com", cn="Alice e", slot=60, key_usage="encrypt"
    )
    env.import_(new, use="encrypt")
    report = open_with(env.keystore, old_mail, pki)
    assert report.encryption is EncryptionStatus.AEAD, report.error
    assert report.decrypted_with == both.sha256


def test_installs_never_delete_historic_keys(env: Env, pki: StandardPKI) -> None:
    generations = [
        make_leaf(
            pki.intermediate, "bob@example.org", cn=f"Bob g{n}", slot=70 + n, key_usage="encrypt"
        )
        for n in range(3)
    ]
    mails = []
    for leaf in generations:
        env.import_(leaf, use="encrypt")
        mails.append(encrypt_message(message(to="bob@example.org"), [leaf.cert], now=NOW))
    # Re-installing and installing unrelated identities keep them too.
    env.import_(generations[-1], use="encrypt")
    env.import_(pki.carol)
    shas = [fingerprint(leaf.cert) for leaf in generations]
    states = {e.sha256: e.state for e in env.keystore.identities()}
    assert [states[sha] for sha in shas] == [HISTORIC, HISTORIC, CURRENT]
    for sha in shas:
        assert (env.home / "keystore" / "keys" / f"{sha}.key").is_file()
    for sha, mail in zip(shas, mails, strict=True):
        report = open_with(env.keystore, mail, pki)
        assert report.decrypted_with == sha, report.error
        assert report.historic_key is (sha != shas[-1])


def test_historic_identity_is_never_used_to_sign(env: Env, pki: StandardPKI) -> None:
    first = make_leaf(pki.intermediate, "bob@example.org", cn="Bob s1", slot=80)
    second = make_leaf(pki.intermediate, "bob@example.org", cn="Bob s2", slot=81)
    env.import_(first, use="sign")
    env.import_(second, use="sign")
    assert env.keystore.find(fingerprint(first.cert)).state == HISTORIC
    assert env.keystore.current("bob@example.org", SIGN).sha256 == fingerprint(second.cert)  # type: ignore[union-attr]
    identity = env.keystore.identity(env.keystore.find(fingerprint(first.cert)))
    assert identity.historic is True


def test_explicit_remove(env: Env, pki: StandardPKI) -> None:
    bob = env.import_(pki.bob)
    carol = env.import_(pki.carol)
    removed = env.keystore.remove(bob.sha256[:12].upper())
    assert removed.sha256 == bob.sha256
    assert [e.sha256 for e in env.keystore.identities()] == [carol.sha256]
    assert not (env.home / "keystore" / "keys" / f"{bob.sha256}.key").exists()
    assert (env.home / "keystore" / "keys" / f"{carol.sha256}.key").exists()
    assert env.keystore.current("bob@example.org", SIGN) is None
    with pytest.raises(CredentialsError):
        env.keystore.find(bob.sha256)
    with pytest.raises(CredentialsError):
        env.keystore.remove(bob.sha256)
    env.keystore.identity(env.keystore.find(carol.sha256))  # the other key still unwraps


def test_remove_of_a_historic_identity(env: Env, pki: StandardPKI) -> None:
    old = make_leaf(pki.intermediate, "bob@example.org", cn="Bob r1", slot=90, key_usage="encrypt")
    new = make_leaf(pki.intermediate, "bob@example.org", cn="Bob r2", slot=91, key_usage="encrypt")
    env.import_(old, use="encrypt")
    env.import_(new, use="encrypt")
    env.keystore.remove(fingerprint(old.cert))
    assert [fingerprint(i.certificate) for i in env.keystore.decryption_identities()] == [
        fingerprint(new.cert)
    ]


# ---------------------------------------------------------------------------- atomic install


def test_install_with_an_unfit_identity_installs_none(env: Env, pki: StandardPKI) -> None:
    env.import_(pki.bob)
    before = snapshot(env.home)
    secrets_before = dict(env.secrets.values)
    renewal = make_leaf(pki.intermediate, "bob@example.org", cn="Bob n", slot=100, key_usage="both")
    unfit = make_leaf(pki.intermediate, email=None, cn="No address", slot=101, key_usage="both")
    batch = [
        NewIdentity(renewal.identity, frozenset({SIGN, ENCRYPT}), "profile"),
        NewIdentity(unfit.identity, frozenset({SIGN, ENCRYPT}), "profile"),
    ]
    with pytest.raises(CredentialsError):
        env.keystore.install(batch)
    assert snapshot(env.home) == before
    assert env.secrets.values == secrets_before
    (bob,) = env.keystore.identities()
    assert (bob.state, bob.uses) == (CURRENT, frozenset({SIGN, ENCRYPT}))


@pytest.mark.parametrize("failing_write", [2, 3], ids=["second key", "index (commit point)"])
def test_install_failing_midway_leaves_the_previous_state(
    env: Env, pki: StandardPKI, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    env.import_(pki.bob)
    before = snapshot(env.home)
    secrets_before = dict(env.secrets.values)
    real_write = keystore_module.atomic_write
    calls = []

    def flaky_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
        calls.append(path)
        if len(calls) == failing_write:
            raise StorageError(f"cannot write {path}: No space left on device")
        real_write(path, data, mode=mode)

    monkeypatch.setattr(keystore_module, "atomic_write", flaky_write)
    renewal = make_leaf(pki.intermediate, "bob@example.org", cn="Bob m", slot=110, key_usage="both")
    batch = [
        NewIdentity(renewal.identity, frozenset({SIGN, ENCRYPT}), "profile"),
        NewIdentity(pki.carol.identity, frozenset({SIGN, ENCRYPT}), "profile"),
    ]
    with pytest.raises(StorageError):
        env.keystore.install(batch)
    assert len(calls) == failing_write
    assert snapshot(env.home) == before
    assert env.secrets.values == secrets_before
    monkeypatch.setattr(keystore_module, "atomic_write", real_write)
    (bob,) = env.keystore.identities()
    assert (bob.state, bob.uses) == (CURRENT, frozenset({SIGN, ENCRYPT}))
    env.keystore.identity(bob)


def test_install_several_at_once(env: Env, pki: StandardPKI) -> None:
    installed = env.keystore.install(
        [
            NewIdentity(pki.bob.identity, frozenset({SIGN}), "profile:a"),
            NewIdentity(pki.carol.identity, frozenset({ENCRYPT}), "profile:a", exportable=False),
            NewIdentity(pki.dave.identity, frozenset({ENCRYPT}), "profile:a", historic=True),
        ]
    )
    assert [e.sha256 for e in installed] == [
        fingerprint(pki.bob.cert),
        fingerprint(pki.carol.cert),
        fingerprint(pki.dave.cert),
    ]
    assert [e.state for e in env.keystore.identities()] == [CURRENT, CURRENT, HISTORIC]
    assert env.keystore.current("dave@example.com", ENCRYPT) is None
    assert len(env.keystore.decryption_identities()) == 2


# ---------------------------------------------------------------------------- the KEK


def test_missing_kek_is_a_clear_keyring_error(env: Env, pki: StandardPKI) -> None:
    entry = env.import_(pki.bob)
    mail = encrypt_message(message(to="bob@example.org"), [pki.bob.cert], now=NOW)
    (name,) = env.secrets.values
    env.secrets.delete(name)
    before = snapshot(env.home)
    with pytest.raises(KeyringUnavailableError, match="missing from the OS keyring"):
        env.keystore.identity(entry)
    # Decryption keys are unwrapped when a message needs one: that is when it fails.
    (key,) = env.keystore.decryption_identities()
    with pytest.raises(KeyringUnavailableError):
        _ = key.private_key
    with pytest.raises(KeyringUnavailableError):
        env.keystore.export_private(entry.sha256, b"new-password")
    services = InboxServices(env.home, env.secrets)
    with pytest.raises(KeyringUnavailableError):
        services.secure_mail.signing_identity(message(sender="Bob <bob@example.org>"))
    # Opening mail never falls back to anything: the message stays encrypted.
    try:
        report = services.secure_mail.open(mail, now=NOW)
    except KeyringUnavailableError:
        pass
    else:
        assert report.decrypted_with is None
        assert report.inner is None or b"see you tomorrow" not in report.inner
    # Nothing was (re)created behind the user's back.
    assert env.secrets.values == {}
    assert snapshot(env.home) == before
    # Metadata still reads without the keyring.
    assert env.keystore.find(entry.sha256) == entry
    assert env.keystore.export_certificate(entry.sha256) == pki.bob.pem()


def test_install_after_kek_loss_refuses_rather_than_orphaning_keys(
    env: Env, pki: StandardPKI
) -> None:
    bob = env.import_(pki.bob)
    ((name, kek),) = env.secrets.values.items()
    env.secrets.delete(name)
    with pytest.raises(KeyringUnavailableError):
        env.import_(pki.carol)
    assert env.secrets.values == {}
    env.secrets.set(name, kek)  # the keyring comes back (unlocked, restored from backup)
    env.keystore.identity(env.keystore.find(bob.sha256))
    for entry in env.keystore.identities():
        env.keystore.identity(entry)


@pytest.mark.parametrize("damage", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_damaged_kek_is_a_keyring_error(env: Env, pki: StandardPKI, damage: str) -> None:
    entry = env.import_(pki.bob)
    (name,) = env.secrets.values
    env.secrets.set(name, damage)
    with pytest.raises(KeyringUnavailableError, match="damaged"):
        env.keystore.identity(entry)


def test_two_homes_have_different_keks(tmp_path: Path, pki: StandardPKI) -> None:
    secrets = MemorySecretStore()
    first = Keystore(tmp_path / "first", secrets)
    second = Keystore(tmp_path / "second", secrets)
    a = first.import_p12(pki.alice.p12(PASSWORD), PASSWORD)
    first_names = set(secrets.values)
    b = second.import_p12(pki.bob.p12(PASSWORD), PASSWORD)
    assert len(secrets.values) == 2
    (second_name,) = set(secrets.values) - first_names
    (first_name,) = first_names
    assert secrets.values[first_name] != secrets.values[second_name]
    # The same home spelled differently is the same keystore (and the same KEK).
    again = Keystore(tmp_path / "second" / ".." / "second", secrets)
    assert fingerprint(again.identity(again.find(b.sha256)).certificate) == b.sha256
    assert len(secrets.values) == 2

    # A keyring holding another keystore's KEK: refused, never a wrong or empty key.
    secrets.set(first_name, secrets.values[second_name])
    with pytest.raises(CredentialsError, match="cannot be unwrapped") as caught:
        first.identity(a)
    assert not isinstance(caught.value, KeyringUnavailableError)
    assert "\n" not in str(caught.value)


def test_tampered_wrapped_key_is_refused(env: Env, pki: StandardPKI) -> None:
    entry = env.import_(pki.bob)
    path = env.home / "keystore" / "keys" / f"{entry.sha256}.key"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(CredentialsError, match="cannot be unwrapped"):
        env.keystore.identity(entry)
    path.write_bytes(b"IBK1")
    with pytest.raises(CredentialsError, match="damaged"):
        env.keystore.identity(entry)


def test_wrapped_key_bound_to_its_certificate(env: Env, pki: StandardPKI) -> None:
    """Swapping two wrapped key files is detected (the AAD names the certificate)."""
    bob = env.import_(pki.bob)
    carol = env.import_(pki.carol)
    keys = env.home / "keystore" / "keys"
    bob_blob = (keys / f"{bob.sha256}.key").read_bytes()
    (keys / f"{bob.sha256}.key").write_bytes((keys / f"{carol.sha256}.key").read_bytes())
    (keys / f"{carol.sha256}.key").write_bytes(bob_blob)
    for entry in (bob, carol):
        with pytest.raises(CredentialsError, match="cannot be unwrapped"):
            env.keystore.identity(entry)


# ---------------------------------------------------------------------------- export


def test_export_certificate_and_private_key(env: Env, pki: StandardPKI) -> None:
    entry = env.import_(pki.carol)
    assert env.keystore.export_certificate(entry.sha256) == pki.carol.pem()
    exported = env.keystore.export_private(entry.sha256[:10], b"new-password")
    identity = load_identity(exported, b"new-password")
    assert identity.certificate == pki.carol.cert
    assert identity.private_key.private_numbers() == pki.carol.key.private_numbers()  # type: ignore[union-attr]
    assert identity.chain == pki.carol.chain
    for wrong in (None, b"", PASSWORD, b"new-passwor"):
        with pytest.raises(IdentityError):
            load_identity(exported, wrong)
    with pytest.raises(CredentialsError, match="password"):
        env.keystore.export_private(entry.sha256, b"")


def test_not_exportable_key_stays_inside(env: Env, pki: StandardPKI) -> None:
    (entry,) = env.keystore.install(
        [NewIdentity(pki.bob.identity, frozenset({SIGN, ENCRYPT}), "test", exportable=False)]
    )
    assert entry.exportable is False
    assert env.keystore.find(entry.sha256).to_json()["exportable"] is False
    with pytest.raises(CredentialsError, match="may not be exported"):
        env.keystore.export_private(entry.sha256, b"new-password")
    assert env.keystore.export_certificate(entry.sha256) == pki.bob.pem()
    # Re-importing the same identity from a p12 does not make it exportable.
    env.import_(pki.bob)
    assert env.keystore.find(entry.sha256).exportable is False


# ---------------------------------------------------------------------------- find


def test_find_by_unique_prefix(env: Env, pki: StandardPKI) -> None:
    bob = env.import_(pki.bob)
    carol = env.import_(pki.carol)
    assert env.keystore.find(bob.sha256) == bob
    assert env.keystore.find(bob.sha256[:8]) == bob
    assert env.keystore.find(" " + carol.sha256[:16].upper() + " ") == carol
    for bad in (bob.sha256[:7], "", "0" * 64, bob.sha256 + "0", "zzzzzzzz"):
        with pytest.raises(CredentialsError):
            env.keystore.find(bad)


def test_find_ambiguous_prefix(env: Env, pki: StandardPKI, monkeypatch: pytest.MonkeyPatch) -> None:
    real = keystore_module.fingerprint
    monkeypatch.setattr(keystore_module, "fingerprint", lambda cert: "deadbeef" + real(cert)[8:])
    bob = env.import_(pki.bob)
    carol = env.import_(pki.carol)
    assert bob.sha256[:8] == carol.sha256[:8] == "deadbeef"
    with pytest.raises(CredentialsError):
        env.keystore.find("deadbeef")
    with pytest.raises(CredentialsError):
        env.keystore.remove("deadbeef")
    assert len(env.keystore.identities()) == 2
    assert env.keystore.find(bob.sha256[:20]) == bob


# ---------------------------------------------------------------------------- JSON contract


def test_json_contract(env: Env, pki: StandardPKI) -> None:
    env.import_(pki.alice, source="p12:alice.p12")
    env.keystore.install(
        [NewIdentity(pki.carol.identity, frozenset({ENCRYPT}), "profile:x", exportable=False)]
    )
    renewed = make_leaf(
        pki.intermediate, "carol@example.net", cn="Carol 2", key_kind="p384", key_usage="both"
    )
    env.import_(renewed, use="encrypt")
    objects = [entry.to_json() for entry in env.keystore.identities()]
    assert len(objects) == 3
    for obj in objects:
        assert set(obj) == CONTRACT_KEYS
        assert isinstance(obj["sha256"], str)
        assert len(obj["sha256"]) == 64
        assert obj["sha256"] == obj["sha256"].lower()
        assert all(isinstance(a, str) for a in obj["addresses"])
        assert isinstance(obj["subject"], str)
        for name in ("not_before", "not_after"):
            assert datetime.fromisoformat(obj[name]).tzinfo is not None
        assert obj["use"] == sorted(obj["use"])
        assert set(obj["use"]) <= {"sign", "encrypt"}
        assert obj["state"] in {"current", "historic"}
        assert isinstance(obj["exportable"], bool)
        assert isinstance(obj["source"], str)
        json.dumps(obj)
    alice, carol, _ = objects
    assert alice["sha256"] == fingerprint(pki.alice.cert)
    assert alice["addresses"] == ["alice@example.com"]
    assert alice["use"] == ["encrypt", "sign"]
    assert alice["state"] == "current"
    assert alice["source"] == "p12:alice.p12"
    assert alice["not_after"] == pki.alice.cert.not_valid_after_utc.isoformat()
    assert carol["state"] == "historic"
    assert carol["exportable"] is False
    assert carol["source"] == "profile:x"


def test_cert_list_json_through_the_cli(
    env: Env, pki: StandardPKI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_main, "InboxServices", lambda home: InboxServices(home, env.secrets))
    assert cli_main.main(["--home", str(env.home), "cert", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    env.import_(pki.bob)
    assert cli_main.main(["--home", str(env.home), "cert", "list", "--json"]) == 0
    (obj,) = json.loads(capsys.readouterr().out)
    assert set(obj) == CONTRACT_KEYS
    assert obj["sha256"] == fingerprint(pki.bob.cert)


# ---------------------------------------------------------------------------- OsKeyring


class _SecureBackend:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, name: str) -> str | None:
        return self.values.get((service, name))

    def set_password(self, service: str, name: str, value: str) -> None:
        self.values[(service, name)] = value

    def delete_password(self, service: str, name: str) -> None:
        self.values.pop((service, name), None)


class _PlaintextBackend:
    """Stands in for keyrings.alt.file.PlaintextKeyring: must never receive anything."""

    def get_password(self, service: str, name: str) -> str | None:
        raise AssertionError("the plaintext backend was asked")

    def set_password(self, service: str, name: str, value: str) -> None:
        raise AssertionError("the plaintext backend received a secret")

    def delete_password(self, service: str, name: str) -> None:
        raise AssertionError("the plaintext backend was asked")


_PlaintextBackend.__module__ = "keyrings.alt.file"


class _Chainer:
    def __init__(self, backends: list[object]) -> None:
        self.backends = backends


_Chainer.__module__ = "keyring.backends.chainer"


def _use_backend(monkeypatch: pytest.MonkeyPatch, backend: object) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(_PlaintextBackend, id="keyrings.alt"),
        pytest.param(lambda: _Chainer([_PlaintextBackend()]), id="chainer of keyrings.alt"),
        pytest.param(lambda: _Chainer([]), id="empty chainer"),
        pytest.param(
            lambda: _Chainer([_PlaintextBackend(), _PlaintextBackend()]), id="chainer of two"
        ),
        pytest.param(
            lambda: __import__("keyring.backends.fail", fromlist=["Keyring"]).Keyring(),
            id="fail",
        ),
        pytest.param(
            lambda: __import__("keyring.backends.null", fromlist=["Keyring"]).Keyring(),
            id="null",
        ),
    ],
)
def test_os_keyring_refuses_insecure_backends(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: StandardPKI, backend: Callable[[], object]
) -> None:
    _use_backend(monkeypatch, backend())
    store = OsKeyring()
    for call in (lambda: store.get("x"), lambda: store.set("x", "y")):
        with pytest.raises(KeyringUnavailableError, match="no secure OS keyring") as caught:
            call()
        assert "\n" not in str(caught.value)
    # And the keystore stores nothing without one.
    home = tmp_path / "home"
    with pytest.raises(KeyringUnavailableError):
        Keystore(home, OsKeyring()).import_p12(pki.bob.p12(PASSWORD), PASSWORD)
    assert not home.exists()


def test_os_keyring_picks_the_secure_backend_of_a_chainer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: StandardPKI
) -> None:
    secure = _SecureBackend()
    _use_backend(monkeypatch, _Chainer([_PlaintextBackend(), secure]))
    store = OsKeyring()
    store.set("name", "value")
    assert secure.values == {(SERVICE, "name"): "value"}
    assert store.get("name") == "value"
    assert store.get("other") is None
    store.delete("name")
    assert secure.values == {}
    keystore = Keystore(tmp_path / "home", OsKeyring())
    entry = keystore.import_p12(pki.bob.p12(PASSWORD), PASSWORD)
    assert len(secure.values) == 1
    assert keystore.identity(entry).certificate == pki.bob.cert


def test_os_keyring_errors_become_keyring_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    class Locked(_SecureBackend):
        def get_password(self, service: str, name: str) -> str | None:
            raise RuntimeError("org.freedesktop.Secret.Error.IsLocked")

    _use_backend(monkeypatch, Locked())
    with pytest.raises(KeyringUnavailableError, match="locked"):
        OsKeyring().get("name")
