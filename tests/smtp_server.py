"""A real SMTP server on loopback for the transport tests, and a TCP proxy that cuts.

:class:`SmtpServer` runs aiosmtpd's threaded ``Controller`` on 127.0.0.1 (a free port):
STARTTLS required (or implicit TLS), AUTH required (user ``test``, password ``secret``),
every accepted message delivered into a Maildir (written to ``tmp/``, renamed into
``new/``) and recorded with its envelope. Its attributes switch on faults between sends:

- ``refused_recipients``: address -> reply (``"550 5.1.1 no such user"``) for RCPT TO;
- ``data_reply``: a reply given after the final "." instead of delivering (4xx/5xx);
- ``drop_after_data``: deliver, then drop the connection without replying;
- ``stage_listener``: called (in the server thread, before the server replies) with
  ``"EHLO"``, ``"STARTTLS"`` (handshake done), ``"AUTH"``, ``"MAIL"``, ``"RCPT"``,
  ``"DATA"`` (the command, before 354) and ``"MESSAGE"`` (after the final ".").

:class:`TcpProxy` forwards a loopback port to the server and cuts every connection through
it (FIN on both sides) after N client bytes, or when the server reports a chosen stage
(``proxy.cut_on("MAIL")`` with ``server.stage_listener = proxy.notify``), optionally
letting N more client bytes through first (``cut_on("DATA", after_bytes=1000)`` cuts
in the middle of the message). Stages seen by the server work through TLS, where the
proxy itself sees only ciphertext.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USERS = {"test": "secret"}
HOST = "127.0.0.1"


@functools.cache
def _certificate(common_name: str = "localhost") -> tuple[bytes, bytes]:
    """A self-signed server certificate for localhost and 127.0.0.1: (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return cert.public_bytes(Encoding.PEM), key_pem


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # as received: CRLF line endings, dot-stuffing removed
    path: Path  # the file in <maildir>/new/


class _Handler:
    """aiosmtpd hooks: authentication, fault injection, Maildir delivery."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    def stage(self, name: str) -> None:
        listener = self.owner.stage_listener
        if listener is not None:
            listener(name)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.stage("AUTH")
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        if USERS.get(login) != password:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)

    def handle_STARTTLS(self, server: SMTP, session: Session, envelope: Envelope) -> bool:
        self.stage("STARTTLS")
        return True

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.stage("EHLO")
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.stage("MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.stage("RCPT")
        refusal = self.owner.refused_recipients.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.stage("MESSAGE")
        if self.owner.data_reply is not None:
            return self.owner.data_reply
        content = envelope.original_content
        assert isinstance(content, bytes)
        assert envelope.mail_from is not None
        self.owner.deliver(envelope.mail_from, tuple(envelope.rcpt_tos), content)
        if self.owner.drop_after_data:
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]
            await asyncio.Event().wait()  # cancelled by aiosmtpd on connection_lost
        return "250 2.0.0 Ok: queued as test"


class _Smtp(SMTP):
    """aiosmtpd's SMTP, reporting the DATA command itself as a stage."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        assert isinstance(handler, _Handler)
        handler.stage("DATA")
        await super().smtp_DATA(arg)


class _Controller(Controller):
    def __init__(self, handler: _Handler, *, implicit_tls: bool, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=0, **kwargs)
        self.implicit_tls = implicit_tls

    def factory(self) -> SMTP:
        server = _Smtp(self.handler, **self.SMTP_kwargs)
        if self.implicit_tls:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; over implicit TLS the whole
            # session is encrypted. Passing auth_require_tls=False instead would warn.
            server._auth_require_tls = False
        return server

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # port=0 picked a free one
        super()._trigger_server()


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with TLS and AUTH required, delivering into ``maildir``."""

    def __init__(self, maildir: Path, *, implicit_tls: bool = False) -> None:
        self.maildir = Path(maildir)
        self.implicit_tls = implicit_tls
        self.received: list[Received] = []
        self.refused_recipients: dict[str, str] = {}
        self.data_reply: str | None = None
        self.drop_after_data = False
        self.stage_listener: Callable[[str], None] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="inbox-smtp-"))
        self.ca_file = self._dir / "cert.pem"
        self._key_file = self._dir / "key.pem"
        self._controller: _Controller | None = None
        self._counter = 0
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        assert self._controller is not None, "not started"
        return int(self._controller.port)

    def start(self) -> SmtpServer:
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = _certificate()
        self.ca_file.write_bytes(cert_pem)
        self._key_file.write_bytes(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, self._key_file)
        handler = _Handler(self)
        tls: dict[str, Any] = (
            {"ssl_context": context}
            if self.implicit_tls
            else {"tls_context": context, "require_starttls": True}
        )
        self._controller = _Controller(
            handler,
            implicit_tls=self.implicit_tls,
            server_hostname="localhost",
            authenticator=handler.authenticate,
            auth_required=True,
            auth_require_tls=True,
            ready_timeout=5.0,
            **tls,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def deliver(self, mail_from: str, rcpt_tos: tuple[str, ...], content: bytes) -> Path:
        """Maildir delivery: write into tmp/, then rename into new/."""
        with self._lock:
            self._counter += 1
            name = f"{time.time_ns()}.P{os.getpid()}Q{self._counter}.inbox-test"
        temporary = self.maildir / "tmp" / name
        temporary.write_bytes(content)
        final = self.maildir / "new" / name
        temporary.rename(final)
        self.received.append(Received(mail_from, rcpt_tos, content, final))
        return final

    def delivered(self) -> list[Path]:
        return sorted((self.maildir / "new").iterdir())


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the server; cuts its connections on demand."""

    def __init__(self, target_port: int, *, listen_host: str = HOST) -> None:
        self.target = (HOST, target_port)
        self._listener = socket.create_server((listen_host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._budget: int | None = None  # client bytes still forwarded before the cut
        self._server_budget: int | None = None  # the same for server bytes
        self._cut_stage: str | None = None
        self._after_bytes = 0
        self._closed = False
        self.cuts = 0
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    # -- configuration --------------------------------------------------------------

    def cut_after(self, client_bytes: int) -> None:
        """Cut once this many client bytes went through (0: at the client's first byte)."""
        self._budget = client_bytes

    def cut_after_server(self, server_bytes: int) -> None:
        """Cut once this many server bytes went through (e.g. in the middle of an answer)."""
        self._server_budget = server_bytes

    def cut_on(self, stage: str, *, after_bytes: int = 0) -> None:
        """Cut when the server reports ``stage`` (wire ``notify`` as its stage listener)."""
        self._cut_stage = stage
        self._after_bytes = after_bytes

    def notify(self, stage: str) -> None:
        if stage != self._cut_stage:
            return
        self._cut_stage = None
        if self._after_bytes:
            self._budget = self._after_bytes
        else:
            self.cut()

    def cut(self) -> None:
        """Close every connection through the proxy now, on both sides."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            if pairs:
                self.cuts += 1
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- forwarding -----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for source, target, counted in ((client, upstream, True), (upstream, client, False)):
                thread = threading.Thread(
                    target=self._pump, args=(source, target, counted), daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    target.shutdown(socket.SHUT_WR)
                return
            cut = False
            if counted and self._budget is not None:
                data = data[: self._budget]
                self._budget -= len(data)
                cut = self._budget <= 0
            elif not counted and self._server_budget is not None:
                data = data[: self._server_budget]
                self._server_budget -= len(data)
                cut = self._server_budget <= 0
            try:
                if data:
                    target.sendall(data)
            except OSError:
                return
            if cut:
                self._budget = self._server_budget = None
                self.cut()
                return
