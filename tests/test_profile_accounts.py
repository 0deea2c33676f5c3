"""Accounts that managed profiles bring, created and removed with the profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inbox_app.cli.main import main
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from tests.profile_factory import mail_payload, pkcs12_payload, profile, profile_pki


def install(home: Path, data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "profile.mobileconfig"
    path.write_bytes(data)
    return main(["--home", str(home), "profile", "install", str(path), "--allow-unsigned"])


def test_a_profile_brings_its_account_with_the_smime_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = MemorySecretStore()
    monkeypatch.setattr("inbox_app.services.app.OsKeyring", lambda: secrets)
    ppki = profile_pki()
    home = tmp_path / "home"
    data = profile(
        [
            pkcs12_payload(ppki.alice_sign, "SIGN-1"),
            pkcs12_payload(ppki.alice_enc, "ENC-1"),
            mail_payload(signing="SIGN-1", encryption="ENC-1"),
        ]
    )
    assert install(home, data, tmp_path) == 0
    assert "account password alice-at-example.com" in capsys.readouterr().out
    services = InboxServices(home, secrets)
    (account,) = services.accounts.accounts()
    assert account.source == "profile:com.example.mdm.mail"
    assert account.email == "alice@example.com"
    assert account.imap is not None
    assert (account.imap.host, account.imap.port, account.imap.tls) == (
        "imap.example.com",
        993,
        "ssl",
    )
    assert account.sign_by_default
    assert account.encrypt_by_default
    # Installing it again changes nothing; removing the profile removes the account.
    assert install(home, data, tmp_path) == 0
    assert len(InboxServices(home, secrets).accounts.accounts()) == 1
    assert main(["--home", str(home), "profile", "remove", "com.example.mdm.mail"]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "account", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
