"""The keystore end to end with the real Secret Service (gnome-keyring).

scripts/test.sh runs these in a private D-Bus session with a throwaway, unlocked
gnome-keyring (XDG_* pointing at a temporary directory): the user's keyring is never seen.
Every test uses the ``secret_service`` fixture, which skips them elsewhere (or fails them
when INBOX_KEYRING_TESTS says they must run). The CLI runs as a subprocess that inherits
that environment, so it talks to the same private keyring.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inbox_app.credentials.keystore import Keystore
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.smime import load_identity
from inbox_app.smime.certificates import fingerprint
from tests.pki import Issued, StandardPKI, make_leaf, message
from tests.test_keystore import CONTRACT_KEYS, needles_for_key, needles_for_password, snapshot

pytestmark = pytest.mark.usefixtures("secret_service")

INBOX_APP = Path(sys.executable).with_name("inbox-app")
PASSWORD = "bob-p12-password-5521"
SERVICE = "inbox-app"


@dataclass(frozen=True)
class Files:
    dir: Path
    pki: StandardPKI
    bob_old: Issued  # an encryption-only certificate that gets renewed
    bob_new: Issued

    def __truediv__(self, name: str) -> Path:
        return self.dir / name


@pytest.fixture(scope="module")
def files(pki: StandardPKI, tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("keystore-inputs")
    bob_old = make_leaf(
        pki.intermediate, "bob@example.org", cn="Bob 2025", slot=200, key_usage="encrypt"
    )
    bob_new = make_leaf(
        pki.intermediate, "bob@example.org", cn="Bob 2026", slot=201, key_usage="encrypt"
    )
    written = {
        "root.pem": pki.root.pem(),
        "bob.pem": pki.bob.pem(),
        "bob.p12": pki.bob.p12(PASSWORD.encode()),
        "bob-old.p12": bob_old.p12(PASSWORD.encode()),
        "bob-old.pem": bob_old.pem(),
        "bob-new.p12": bob_new.p12(PASSWORD.encode()),
        "bob-new.pem": bob_new.pem(),
        "bob.pw": f"{PASSWORD}\n".encode(),
        "wrong.pw": b"not-the-password\n",
        "export.pw": b"export-password-8812\n",
        "to-bob.eml": message(),
        "from-bob.eml": message(sender="Bob <bob@example.org>", to="alice@example.com"),
        "from-carol.eml": message(sender="Carol <carol@example.net>", to="bob@example.org"),
    }
    for name, data in written.items():
        (directory / name).write_bytes(data)
    return Files(directory, pki, bob_old, bob_new)


def run(home: Path, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(INBOX_APP), "--home", str(home), *map(str, args)],
        capture_output=True,
        check=False,
        timeout=60,
        env=os.environ.copy(),
    )


def ok(home: Path, *args: str | Path) -> bytes:
    result = run(home, *args)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def cert_list(home: Path) -> list[dict[str, Any]]:
    listed = json.loads(ok(home, "cert", "list", "--json"))
    assert isinstance(listed, list)
    return listed


def open_json(home: Path, message_path: Path, *extra: str | Path) -> dict[str, Any]:
    result = run(home, "smime", "open", message_path, "--json", *extra)
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def keyring_items() -> dict[str, str]:
    """The Secret Service items of the inbox-app service, read with secret-tool (not with
    the keyring package Inbox uses): username -> secret."""
    search = subprocess.run(
        ["secret-tool", "search", "--all", "--unlock", "service", SERVICE],
        capture_output=True,
        check=False,
        timeout=30,
    )
    # secret-tool prints each item's path and secret on stdout, its attributes on stderr.
    output = (search.stdout + search.stderr).decode()
    names = [
        line.partition(" = ")[2]
        for line in output.splitlines()
        if line.startswith("attribute.username = ")
    ]
    assert len(names) == sum(line.startswith("[") for line in output.splitlines())
    items: dict[str, str] = {}
    for name in names:
        lookup = subprocess.run(
            ["secret-tool", "lookup", "service", SERVICE, "username", name],
            capture_output=True,
            check=True,
            timeout=30,
        )
        items[name] = lookup.stdout.decode()
    return items


def kek_name(home: Path) -> str:
    """The keyring entry of ``home``'s key-encryption key (named after the home)."""
    return Keystore(home, MemorySecretStore())._kek_name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "inbox-home"


def test_the_os_keyring_is_the_secret_service() -> None:
    import keyring

    from inbox_app.credentials.secrets import OsKeyring

    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyring.backends.SecretService"
    assert type(backend).__name__ == "Keyring"
    chosen = OsKeyring()._keyring()  # what Inbox really talks to
    assert type(chosen).__module__ == "keyring.backends.SecretService"
    # The child processes see the same backend.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import keyring; b = keyring.get_keyring(); print(type(b).__module__)",
        ],
        capture_output=True,
        check=True,
        timeout=30,
    )
    assert probe.stdout.decode().strip() == "keyring.backends.SecretService"
    # And it is a private one, under the throwaway XDG directories.
    assert os.environ.get("XDG_DATA_HOME")
    assert (
        not Path(os.environ["XDG_DATA_HOME"])
        .resolve()
        .is_relative_to(Path.home() / ".local" / "share")
    )


def test_import_list_open_and_sign_without_key(home: Path, files: Files) -> None:
    bob_sha = fingerprint(files.pki.bob.cert)
    out = ok(
        home,
        "cert",
        "import",
        files / "bob.p12",
        "--password-file",
        files / "bob.pw",
        "--use",
        "both",
    )
    assert bob_sha.encode() in out

    (entry,) = cert_list(home)
    assert set(entry) == CONTRACT_KEYS
    assert entry["sha256"] == bob_sha
    assert entry["addresses"] == ["bob@example.org"]
    assert entry["use"] == ["encrypt", "sign"]
    assert entry["state"] == "current"
    assert entry["exportable"] is True
    assert entry["source"] == "p12:bob.p12"

    encrypted = home.parent / "to-bob.p7m.eml"
    ok(home, "smime", "encrypt", files / "to-bob.eml", "--to", files / "bob.pem", "-o", encrypted)
    report = open_json(home, encrypted)  # no --key: the keystore decrypts
    assert report["decrypted_with"] == bob_sha
    assert report["encryption"] == "aead"
    assert report.get("historic_key") is False
    opened = home.parent / "opened.eml"
    ok(home, "smime", "open", encrypted, "-o", opened)
    assert b"see you tomorrow" in opened.read_bytes()

    signed = home.parent / "signed.eml"
    ok(home, "smime", "sign", files / "from-bob.eml", "-o", signed)  # no --key
    report = open_json(home, signed, "--ca", files / "root.pem")
    assert report["signature"] == "valid"
    assert [signer["sha256"] for signer in report["signers"]] == [bob_sha]
    assert report["sender_match"] is True

    # No signing identity for that From address: one line, exit 2, nothing written.
    result = run(home, "smime", "sign", files / "from-carol.eml", "-o", home.parent / "x.eml")
    assert result.returncode == 2
    assert len(result.stderr.decode().splitlines()) == 1
    assert b"carol@example.net" in result.stderr
    assert not (home.parent / "x.eml").exists()


def test_renewal_moves_the_old_key_to_historic(home: Path, files: Files) -> None:
    old_sha = fingerprint(files.bob_old.cert)
    new_sha = fingerprint(files.bob_new.cert)
    ok(
        home,
        "cert",
        "import",
        files / "bob-old.p12",
        "--password-file",
        files / "bob.pw",
        "--use",
        "encrypt",
    )
    old_mail = home.parent / "old.p7m.eml"
    ok(
        home,
        "smime",
        "encrypt",
        files / "to-bob.eml",
        "--to",
        files / "bob-old.pem",
        "-o",
        old_mail,
    )

    ok(
        home,
        "cert",
        "import",
        files / "bob-new.p12",
        "--password-file",
        files / "bob.pw",
        "--use",
        "encrypt",
    )
    states = {entry["sha256"]: (entry["state"], entry["use"]) for entry in cert_list(home)}
    assert states == {old_sha: ("historic", ["encrypt"]), new_sha: ("current", ["encrypt"])}
    assert (home / "keystore" / "keys" / f"{old_sha}.key").is_file()

    report = open_json(home, old_mail)
    assert report["decrypted_with"] == old_sha
    assert report["historic_key"] is True
    new_mail = home.parent / "new.p7m.eml"
    ok(
        home,
        "smime",
        "encrypt",
        files / "to-bob.eml",
        "--to",
        files / "bob-new.pem",
        "-o",
        new_mail,
    )
    report = open_json(home, new_mail)
    assert report["decrypted_with"] == new_sha
    assert report["historic_key"] is False
    text = ok(home, "smime", "open", old_mail).decode()
    assert f"decrypted with certificate sha256: {old_sha} (a historic key)" in text


def test_renewing_the_encryption_of_a_both_identity_keeps_old_mail_readable(
    home: Path, files: Files
) -> None:
    bob_sha = fingerprint(files.pki.bob.cert)
    ok(home, "cert", "import", files / "bob.p12", "--password-file", files / "bob.pw")
    old_mail = home.parent / "old.p7m.eml"
    ok(home, "smime", "encrypt", files / "to-bob.eml", "--to", files / "bob.pem", "-o", old_mail)
    ok(
        home,
        "cert",
        "import",
        files / "bob-new.p12",
        "--password-file",
        files / "bob.pw",
        "--use",
        "encrypt",
    )
    states = {entry["sha256"]: (entry["state"], entry["use"]) for entry in cert_list(home)}
    assert states[bob_sha][0] == "current"
    assert "sign" in states[bob_sha][1]
    report = open_json(home, old_mail)
    assert report["decrypted_with"] == bob_sha


def test_export_and_remove(home: Path, files: Files) -> None:
    bob_sha = fingerprint(files.pki.bob.cert)
    ok(home, "cert", "import", files / "bob.p12", "--password-file", files / "bob.pw")
    out = home.parent / "bob-export.pem"
    ok(home, "cert", "export", bob_sha[:12], "-o", out)
    assert out.read_bytes() == files.pki.bob.pem()

    exported = home.parent / "out.p12"
    ok(
        home,
        "cert",
        "export",
        bob_sha,
        "--private",
        "--password-file",
        files / "export.pw",
        "-o",
        exported,
    )
    identity = load_identity(exported.read_bytes(), b"export-password-8812")
    assert identity.certificate == files.pki.bob.cert
    assert identity.private_key.private_numbers() == files.pki.bob.key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="password"):
        load_identity(exported.read_bytes(), None)
    with pytest.raises(ValueError, match="password"):
        load_identity(exported.read_bytes(), PASSWORD.encode())

    result = run(home, "cert", "export", bob_sha, "--private", "-o", home.parent / "x.p12")
    assert result.returncode == 2
    assert not (home.parent / "x.p12").exists()

    removed = ok(home, "cert", "remove", bob_sha)
    assert bob_sha.encode() in removed
    assert cert_list(home) == []
    assert not (home / "keystore" / "keys" / f"{bob_sha}.key").exists()
    result = run(home, "cert", "remove", bob_sha)
    assert result.returncode == 2
    assert len(result.stderr.decode().splitlines()) == 1


def test_wrong_password_changes_nothing(home: Path, files: Files) -> None:
    ok(
        home,
        "cert",
        "import",
        files / "bob-old.p12",
        "--password-file",
        files / "bob.pw",
        "--use",
        "encrypt",
    )
    before = snapshot(home)
    own = kek_name(home)
    fresh = home.parent / "fresh-home"
    keyring_before = keyring_items()
    assert own in keyring_before
    assert kek_name(fresh) not in keyring_before
    for use in ("both", "sign", "encrypt"):
        result = run(
            home,
            "cert",
            "import",
            files / "bob.p12",
            "--password-file",
            files / "wrong.pw",
            "--use",
            use,
        )
        assert result.returncode == 2
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("inbox-app: ")
        assert "password" in lines[0]
        assert "not-the-password" not in lines[0]
        assert result.stdout == b""
    assert snapshot(home) == before
    assert keyring_items()[own] == keyring_before[own]

    result = run(fresh, "cert", "import", files / "bob.p12", "--password-file", files / "wrong.pw")
    assert result.returncode == 2
    assert not fresh.exists()
    after = keyring_items()
    assert after[own] == keyring_before[own]
    assert kek_name(fresh) not in after


def test_kek_lives_in_the_secret_service_and_no_key_bytes_on_disk(home: Path, files: Files) -> None:
    name = kek_name(home)
    assert name not in keyring_items()
    ok(home, "cert", "import", files / "bob.p12", "--password-file", files / "bob.pw")
    kek_text = keyring_items()[name]
    assert name.startswith("kek/")
    assert len(base64.b64decode(kek_text, validate=True)) == 32

    # Also visible through the keyring API Inbox uses.
    import keyring

    assert keyring.get_password(SERVICE, name) == kek_text

    # Nothing secret under the data directory, in any encoding.
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for label, needle in needles_for_key(files.pki.bob).items():
                assert needle not in data, f"private key ({label}) in {path}"
            for label, needle in needles_for_password(PASSWORD.encode()).items():
                assert needle not in data, f"password ({label}) in {path}"
            assert base64.b64decode(kek_text) not in data
            assert kek_text.encode() not in data

    # The key really depends on the keyring: without the KEK, a clear keyring error.
    encrypted = home.parent / "to-bob.p7m.eml"
    ok(home, "smime", "encrypt", files / "to-bob.eml", "--to", files / "bob.pem", "-o", encrypted)
    subprocess.run(
        ["secret-tool", "clear", "service", SERVICE, "username", name],
        check=True,
        timeout=30,
    )
    try:
        assert name not in keyring_items()
        opened = home.parent / "opened.eml"
        result = run(home, "smime", "open", encrypted, "-o", opened)
        assert result.returncode == 2
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1, lines
        assert "keyring" in lines[0]
        assert b"see you tomorrow" not in result.stdout
        assert not opened.exists()
    finally:
        keyring.set_password(SERVICE, name, kek_text)
    report = open_json(home, encrypted)
    assert report["decrypted_with"] == fingerprint(files.pki.bob.cert)
