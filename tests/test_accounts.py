"""Accounts: settings in the home (no secrets), passwords in the OS keyring."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import LOCAL_FOLDERS, AccountStore
from inbox_app.mail.errors import AccountError
from inbox_app.services.accounts import AccountService

PASSWORD = "s3cret-Pa55word"


def service(home: Path) -> tuple[AccountService, MemorySecretStore]:
    secrets = MemorySecretStore()
    return AccountService(home, secrets), secrets


def test_server_account_keeps_its_password_in_the_keyring_only(tmp_path: Path) -> None:
    accounts, secrets = service(tmp_path)
    account = accounts.add_server(
        "work", "alice@example.com", imap="imap.example.com:993",
        smtp="smtp.example.com:465", username="alice", password=PASSWORD,
    )  # fmt: skip
    assert account.imap is not None
    assert account.imap.port == 993
    assert accounts.password("work") == PASSWORD
    settings = (tmp_path / "accounts.json").read_bytes()
    assert PASSWORD.encode() not in settings
    assert stat.S_IMODE((tmp_path / "accounts.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert list(secrets.values.values()) == [PASSWORD]
    assert [a.name for a in accounts.accounts()] == ["work"]


def test_local_account_gets_maildir_folders(tmp_path: Path) -> None:
    accounts, secrets = service(tmp_path)
    account = accounts.add_local("local", "me@localhost")
    root = AccountStore(tmp_path).maildir("local")
    assert account.local
    for folder in LOCAL_FOLDERS:
        base = root if folder == "INBOX" else root / f".{folder}"
        assert {p.name for p in base.iterdir()} >= {"cur", "new", "tmp"}
    assert secrets.values == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"imap": "imap.example.com", "smtp": "s:25"}, "HOST:PORT"),
        ({"imap": "i:0", "smtp": "s:25"}, "HOST:PORT"),
        ({"imap": "i:993", "smtp": "s:99999"}, "HOST:PORT"),
    ],
)
def test_bad_servers_change_nothing(tmp_path: Path, kwargs: dict[str, str], message: str) -> None:
    accounts, secrets = service(tmp_path)
    with pytest.raises(AccountError, match=message):
        accounts.add_server("work", "a@example.com", username="a", password=PASSWORD, **kwargs)
    assert not (tmp_path / "accounts.json").exists()
    assert secrets.values == {}


def test_duplicates_and_bad_names_are_refused(tmp_path: Path) -> None:
    accounts, _ = service(tmp_path)
    accounts.add_local("local", "me@localhost")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_local("local", "me@localhost")
    with pytest.raises(AccountError, match="not a valid account name"):
        accounts.add_local("../evil", "me@localhost")
    with pytest.raises(AccountError, match="not an email address"):
        accounts.add_local("other", "not-an-address")


def test_remove_forgets_the_password_and_keeps_the_maildir(tmp_path: Path) -> None:
    accounts, secrets = service(tmp_path)
    accounts.add_server("work", "a@example.com", imap="i:993", smtp="s:465", username="a",
                        password=PASSWORD)  # fmt: skip
    accounts.add_local("local", "me@localhost")
    accounts.remove("work")
    accounts.remove("local")
    assert accounts.accounts() == []
    assert secrets.values == {}
    assert AccountStore(tmp_path).maildir("local").is_dir()
    with pytest.raises(AccountError, match="no account"):
        accounts.remove("work")


def test_settings_written_by_a_newer_inbox_are_refused(tmp_path: Path) -> None:
    (tmp_path / "accounts.json").write_text(json.dumps({"version": 99, "accounts": []}))
    with pytest.raises(AccountError, match="newer Inbox"):
        AccountStore(tmp_path).accounts()


def test_cli_account_commands_with_the_real_keyring(secret_service: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inbox_app", "--home", str(home), "account", *args],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    added = run("add", "work", "--email", "alice@example.com", "--imap", "127.0.0.1:993",
                "--smtp", "127.0.0.1:465", "--username", "alice",
                "--password-file", str(password_file), "--tls", "starttls")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert run("add", "local", "--email", "me@localhost", "--local").returncode == 0
    listed = run("list", "--json")
    data = json.loads(listed.stdout)
    assert [item["name"] for item in data] == ["work", "local"]
    assert data[0]["imap"] == {"host": "127.0.0.1", "port": 993, "tls": "starttls", "ca_file": None}
    assert PASSWORD not in listed.stdout
    assert PASSWORD.encode() not in (home / "accounts.json").read_bytes()
    missing = run("add", "x", "--email", "a@example.com", "--imap", "h:1")
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1
    assert run("remove", "work").returncode == 0
    assert [item["name"] for item in json.loads(run("list", "--json").stdout)] == ["local"]
