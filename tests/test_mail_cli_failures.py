"""``inbox-app sync`` and ``inbox-app send`` against servers that fail them: a certificate
from a CA nobody trusts, a wrong password, a closed port. Each is one clear line on stderr
(no traceback) and the documented exit code:

- ``sync``: 1 when the server's certificate is not trusted (a security check failed), 2
  for a wrong password or a server that cannot be reached; with several accounts, each
  is tried and reported.
- ``send``: 1 whenever the message stays in the outbox, with the reason.

Real servers on 127.0.0.1 (Dovecot, aiosmtpd); the command line runs in-process with an
in-memory keyring in place of the OS one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inbox_app.cli import main as cli_main
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from tests.pki import StandardPKI, message
from tests.servers import Dovecot, free_port
from tests.smtp_server import SmtpServer


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def errors(self) -> list[str]:
        """The error lines on stderr (progress goes there too)."""
        assert "Traceback" not in self.err
        return [line for line in self.err.splitlines() if line.startswith("inbox-app: ")]

    def one_line_error(self) -> str:
        assert "Traceback" not in self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected one stderr line, got {self.err!r}"
        assert lines[0].startswith("inbox-app: ")
        return lines[0]


Cli = Callable[..., Run]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    secrets = MemorySecretStore()
    monkeypatch.setattr(cli_main, "InboxServices", lambda home: InboxServices(home, secrets))
    home = tmp_path / "home"
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "wrong-pw").write_text("not-the-password\n")

    def run(*argv: str | Path) -> Run:
        capsys.readouterr()
        code = cli_main.main(["--home", str(home), *map(str, argv)])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture
def other_ca(tmp_path: Path, pki: StandardPKI) -> Path:
    """A CA that issued neither server's certificate."""
    path = tmp_path / "other-ca.pem"
    path.write_bytes(pki.root.pem())
    return path


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[SmtpServer]:
    server = SmtpServer(dovecot.folder_path("INBOX")).start()
    try:
        yield server
    finally:
        server.stop()


def add_account(
    cli: Cli, tmp_path: Path, name: str, *, imap: str, smtp: str, tls: str, ca_file: Path,
    password_file: str = "pw",  # noqa: S107 (a file name)
) -> None:  # fmt: skip
    added = cli(
        "account", "add", name, "--email", "test@example.com", "--imap", imap, "--smtp", smtp,
        "--username", "test", "--password-file", tmp_path / password_file, "--tls", tls,
        "--ca-file", ca_file,
    )  # fmt: skip
    assert added.code == 0, added.err


# ---------------------------------------------------------------- sync


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
@pytest.mark.parametrize(
    ("failure", "code", "words"),
    [
        (None, 0, ""),
        ("untrusted", 1, "is not trusted"),
        ("password", 2, "rejected the user name or password for test"),
        ("closed", 2, "cannot connect to 127.0.0.1:"),
    ],
)
def test_sync_failures_are_one_line(
    *, cli: Cli, tmp_path: Path, dovecot: Dovecot, other_ca: Path,
    tls: str, failure: str | None, code: int, words: str,
) -> None:  # fmt: skip
    assert dovecot.ca_file is not None
    port = dovecot.imaps_port if tls == "ssl" else dovecot.imap_port
    add_account(
        cli, tmp_path, "work",
        imap=f"127.0.0.1:{free_port() if failure == 'closed' else port}",
        smtp="127.0.0.1:25", tls=tls,
        ca_file=other_ca if failure == "untrusted" else dovecot.ca_file,
        password_file="wrong-pw" if failure == "password" else "pw",
    )  # fmt: skip
    result = cli("sync", "work")
    assert result.code == code
    if failure is None:
        assert result.out.startswith("work: ")
        assert "Traceback" not in result.err
        return
    line = result.one_line_error()
    assert line.startswith("inbox-app: work: ")
    assert words in line
    assert "not-the-password" not in line
    assert result.out == ""


def test_sync_of_every_account_reports_each_and_the_worst(
    cli: Cli, tmp_path: Path, dovecot: Dovecot, other_ca: Path
) -> None:
    assert dovecot.ca_file is not None
    imap = f"127.0.0.1:{dovecot.imaps_port}"
    add_account(cli, tmp_path, "good", imap=imap, smtp="127.0.0.1:25", tls="ssl",
                ca_file=dovecot.ca_file)  # fmt: skip
    add_account(cli, tmp_path, "refused", imap=imap, smtp="127.0.0.1:25", tls="ssl",
                ca_file=dovecot.ca_file, password_file="wrong-pw")  # fmt: skip
    result = cli("sync")
    assert result.code == 2
    assert result.out.startswith("good: ")  # one failing account does not stop the others
    assert result.errors == [
        "inbox-app: refused: 127.0.0.1 rejected the user name or password for test"
    ]
    # A certificate that is not trusted outranks the other failure.
    add_account(cli, tmp_path, "spoofed", imap=imap, smtp="127.0.0.1:25", tls="ssl",
                ca_file=other_ca)  # fmt: skip
    result = cli("sync")
    assert result.code == 1
    assert [line.split(":")[1].strip() for line in result.errors] == ["refused", "spoofed"]


def test_sync_of_an_unknown_account_is_bad_input(cli: Cli) -> None:
    result = cli("sync", "nobody")
    assert result.code == 2
    assert "no account named 'nobody'" in result.one_line_error()


# ---------------------------------------------------------------- send


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (None, ""),
        ("untrusted", "certificate"),
        ("password", "refused the login"),
        ("closed", "cannot connect to 127.0.0.1:"),
    ],
)
def test_send_failures_keep_the_message_and_are_one_line(
    *, cli: Cli, tmp_path: Path, smtp: SmtpServer, dovecot: Dovecot,
    failure: str | None, words: str,
) -> None:  # fmt: skip
    assert dovecot.ca_file is not None
    add_account(
        cli, tmp_path, "work",
        imap=f"127.0.0.1:{dovecot.imap_port}",
        smtp=f"127.0.0.1:{free_port() if failure == 'closed' else smtp.port}",
        tls="starttls",
        ca_file=dovecot.ca_file if failure == "untrusted" else smtp.ca_file,
        password_file="wrong-pw" if failure == "password" else "pw",
    )  # fmt: skip
    mail = tmp_path / "mail.eml"
    mail.write_bytes(message())
    result = cli("send", "work", mail)
    outbox = json.loads(cli("outbox", "work", "--json").out)
    if failure is None:
        assert result.code == 0, result.err
        assert result.out.startswith("sent: ")
        assert outbox == []
        return
    assert result.code == 1
    line = result.one_line_error()
    assert line.startswith("inbox-app: not sent, it stays in the outbox: ")
    assert words in line
    assert "not-the-password" not in line
    assert smtp.received == []
    (item,) = outbox
    assert item["state"] == "failed"
    assert item["maybe_delivered"] is False
    assert item["error"] in line
