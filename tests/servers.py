"""Real mail servers on loopback for the transport tests: a private Dovecot instance.

:class:`Dovecot` runs ``/usr/sbin/dovecot`` with its own configuration, state and log under a
throwaway directory: IMAP with STARTTLS and IMAPS on free ports of 127.0.0.1, one
passwd-file user (``test`` / ``secret``), Maildir. The server certificate is issued by a
throwaway CA whose PEM file (:attr:`Dovecot.ca_file`) is what a client must trust.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOVECOT = "/usr/sbin/dovecot"
USER = "test"
PASSWORD = "secret"
HOST = "127.0.0.1"
NOBODY = 65534

# The test template of ../shared/recipes plus special-use folders (RFC 6154) under names
# a client cannot guess, so that roles must come from the server's flags.
_CONFIG = """\
protocols = imap
listen = 127.0.0.1
instance_name = inbox-test-dovecot-{tag}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log/dovecot.log
info_log_path = {base}/log/dovecot.log
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 100
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "Sent Messages" {{
    special_use = \\Sent
    auto = create
  }}
  mailbox "Old Mail" {{
    special_use = \\Archive
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service doveadm {{
  inet_listener {{
    port = 0
  }}
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _write_certificates(base: Path) -> Path:
    """A throwaway CA and a server certificate for localhost/127.0.0.1; returns the CA PEM."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Inbox Test Server CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (base / "cert.pem").write_bytes(server.public_bytes(Encoding.PEM))
    key_path = base / "key.pem"
    key_path.write_bytes(
        server_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    key_path.chmod(0o600)
    ca_path = base / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(Encoding.PEM))
    return ca_path


def _wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return True
        time.sleep(0.02)
    return False


class Dovecot:
    """A private Dovecot on 127.0.0.1; ``start()`` it, ``stop()`` it when done."""

    def __init__(self) -> None:
        self.base: Path | None = None
        self._keep_log_in: Path | None = None
        self.imap_port = 0
        self.imaps_port = 0
        self.ca_file: Path | None = None
        self.user = USER
        self.password = PASSWORD
        self.host = HOST

    @staticmethod
    def available() -> bool:
        return os.path.exists(DOVECOT) and shutil.which("doveadm") is not None

    @property
    def config(self) -> Path:
        assert self.base is not None, "not started"
        return self.base / "dovecot.conf"

    @property
    def maildir(self) -> Path:
        assert self.base is not None, "not started"
        return self.base / "mail" / USER / "Maildir"

    @property
    def log(self) -> str:
        assert self.base is not None, "not started"
        path = self.base / "log" / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, base_dir: Path) -> tuple[int, int]:
        """Start the server; returns the (STARTTLS, IMAPS) ports.

        The server's files live in a directory of their own under the system's temporary
        directory, not in ``base_dir``: Dovecot's auth and mail processes run as other
        users and must traverse every directory above them, and pytest makes its
        ``/tmp/pytest-of-<user>`` 0700 again whenever another pytest run starts, which
        would lock a running server out of its own mail. ``base_dir`` gets the log when
        the server stops.
        """
        self._keep_log_in = Path(base_dir)
        base = Path(tempfile.mkdtemp(prefix="inbox-dovecot-")).resolve()
        base.chmod(0o755)
        for directory in base.parents:
            if directory.stat().st_mode & 0o005 != 0o005:
                directory.chmod(directory.stat().st_mode | 0o055)
        for name in ("run", "state", "log", "mail"):
            (base / name).mkdir(parents=True, exist_ok=True)
        self.base = base
        self.ca_file = _write_certificates(base)
        home = base / "mail" / USER
        (base / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{NOBODY}:{NOBODY}::{home}\n")
        for folder in ("cur", "new", "tmp"):
            (home / "Maildir" / folder).mkdir(parents=True, exist_ok=True)
        self._chown_mail()
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between choosing and binding
            self.imap_port, self.imaps_port = free_port(), free_port()
            self.config.write_text(
                _CONFIG.format(
                    base=base,
                    tag=uuid.uuid4().hex[:8],
                    imap_port=self.imap_port,
                    imaps_port=self.imaps_port,
                )
            )
            # The master daemonizes and its children keep the inherited stdio open: never
            # capture it through a pipe (the run would wait for them), use a file.
            with (base / "log" / "start.err").open("w+") as errors:
                result = subprocess.run(
                    [DOVECOT, "-c", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    check=False,
                    timeout=30,
                )
                errors.seek(0)
                start_errors = errors.read()
            deadline = time.monotonic() + 10
            if (
                result.returncode == 0
                and _wait_for_port(self.imap_port, deadline)
                and _wait_for_port(self.imaps_port, deadline)
            ):
                return self.imap_port, self.imaps_port
            last_error = start_errors.strip() or self.log[-2000:]
            self._shutdown()
        self.stop()
        raise RuntimeError(f"dovecot did not start: {last_error}")

    def stop(self) -> None:
        """Stop the server and remove its files (the log is kept in ``base_dir``)."""
        if self.base is None:
            return
        self._shutdown()
        with contextlib.suppress(OSError):
            if self._keep_log_in is not None:
                self._keep_log_in.mkdir(parents=True, exist_ok=True)
                (self._keep_log_in / "dovecot.log").write_text(self.log)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def _shutdown(self) -> None:
        """Stop the processes: doveadm stop, then kill whatever survived."""
        assert self.base is not None
        pid_file = self.base / "run" / "master.pid"
        pid = None
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
        subprocess.run(
            ["doveadm", "-c", str(self.config), "stop"],
            capture_output=True,
            check=False,
            timeout=15,
        )
        if pid is not None:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.02)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def folder_path(self, folder: str) -> Path:
        """The Maildir++ directory of ``folder`` ("INBOX" or a top-level name)."""
        if folder.upper() == "INBOX":
            return self.maildir
        return self.maildir / ("." + folder.replace("/", "."))

    def seed(
        self,
        folder: str,
        raw_messages: Iterable[bytes],
        *,
        seen: bool = False,
        when: datetime | None = None,
    ) -> int:
        """Write messages straight into the folder's Maildir (much faster than APPEND).

        Dovecot assigns UIDs when it next looks at the folder. Messages marked ``seen`` go
        to ``cur/`` with the S flag, the others to ``new/``; the file time is the internal
        date. Returns how many were written.
        """
        path = self.folder_path(folder)
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        mtime = (when or datetime.now(UTC)).timestamp()
        count = 0
        for count, raw in enumerate(raw_messages, 1):  # noqa: B007 (count is the result)
            name = f"{int(mtime)}.M{uuid.uuid4().hex}.inbox-test"
            temporary = path / "tmp" / name
            temporary.write_bytes(raw)
            os.utime(temporary, (mtime, mtime))
            target = path / "cur" / f"{name}:2,S" if seen else path / "new" / name
            temporary.rename(target)
        self._chown_mail()
        return count

    def _chown_mail(self) -> None:
        assert self.base is not None
        root = self.base / "mail"
        os.chown(root, NOBODY, NOBODY)
        for directory, subdirectories, files in os.walk(root):
            for name in (*subdirectories, *files):
                os.chown(os.path.join(directory, name), NOBODY, NOBODY)

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm`` against this instance (as user ``test`` where it applies)."""
        result = subprocess.run(
            ["doveadm", "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def messages(count: int, *, subject: str = "Seed") -> Sequence[bytes]:
    """``count`` distinct small messages."""
    return [
        (
            f"From: Alice <alice@example.com>\r\nTo: test@example.com\r\n"
            f"Subject: {subject} {index}\r\nDate: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
            f"Message-ID: <seed-{index}-{uuid.uuid4().hex}@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Message {index}\r\n"
        ).encode()
        for index in range(count)
    ]
