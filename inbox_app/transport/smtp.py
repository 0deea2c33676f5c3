"""SMTP submission: hand one finished message to the user's server (aiosmtplib).

Transport only: the outbox, accounts and retries live above this module. The caller gives
the bytes to send and the envelope explicitly; :func:`envelope` derives the envelope from
From/Sender/To/Cc/Bcc and :func:`strip_bcc` removes the Bcc header from the bytes (the
body is never re-serialised, so signatures stay intact). :func:`send` refuses a message
that still carries a Bcc field.

TLS is mandatory: ``tls="ssl"`` (implicit TLS, usually port 465) or ``tls="starttls"``
(usually port 587; a server that does not offer STARTTLS is a :class:`TlsError`, never a
plaintext fallback). Certificates are verified against the system store plus ``ca_file``.

Every failure is translated into :mod:`inbox_app.transport.errors` with a one-line message
that never contains the password:

- cannot connect (refused, unreachable, timed out)      -> TransportError
- TLS handshake or certificate failure, no STARTTLS     -> TlsError
- login refused, no usable AUTH, server demands AUTH    -> AuthenticationError
- sender, any recipient, or the message refused         -> ServerError (``code``; 4xx is
  temporary); if any recipient is refused nothing is sent (the transaction is reset), so
  the user never sends to a silent subset
- connection lost or server silent at any other step    -> ConnectionLostError

**Delivery may be unknown.** Once the whole message and its terminating "." have been
handed to the OS, a lost connection or a missing reply raises ``ConnectionLostError``
with ``maybe_delivered=True``: the server may have queued the message before the reply
was lost. The outbox must then not resend blindly: it looks for the message's Message-ID
(in the Sent folder, or asks the user) before trying again. A cut during the DATA
transfer looks the same from the client's side (the bytes sit in OS buffers), so it is
reported the same way: ``maybe_delivered`` is ``False`` only when the message certainly
was not complete on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import AddressHeader
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Literal

import aiosmtplib
from aiosmtplib.protocol import SMTPProtocol

from inbox_app.transport.errors import (
    AuthenticationError,
    ConnectionLostError,
    ServerError,
    TlsError,
    TransportError,
)
from inbox_app.transport.tls import create_context

TlsMode = Literal["ssl", "starttls"]

DEFAULT_TIMEOUT = 60.0
# Sent in EHLO instead of the machine's name (which would leak into Received headers).
DEFAULT_LOCAL_HOSTNAME = "[127.0.0.1]"

_BCC_FIELDS = frozenset({b"bcc", b"resent-bcc"})
_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_MAX_DETAIL = 200

# The steps of a session, in order; a failure is translated according to the step.
_CONNECT = "connect"
_STARTTLS = "starttls"
_EHLO = "ehlo"
_AUTH = "auth"
_MAIL = "mail"
_RCPT = "rcpt"
_DATA = "data"  # DATA sent, 354 not yet received: nothing can have been delivered
_SENT = "sent"  # the message and its final "." written: it may have been delivered
_REFUSED_TEXT = {
    _CONNECT: "the connection",
    _STARTTLS: "STARTTLS",
    _EHLO: "EHLO",
    _AUTH: "the login",
    _MAIL: "the sender",
    _RCPT: "a recipient",
    _DATA: "DATA",
    _SENT: "the message",
}
_STEP_TEXT = {
    _CONNECT: "while connecting",
    _STARTTLS: "while starting TLS",
    _EHLO: "after the TLS handshake",
    _AUTH: "during login",
    _MAIL: "after MAIL FROM",
    _RCPT: "after RCPT TO",
    _DATA: "after DATA",
    _SENT: "after the message was sent, before the server confirmed it",
}


@dataclass(frozen=True)
class SendResult:
    """The server accepted the message for every recipient."""

    server_response: str  # the reply to the final ".", e.g. "2.0.0 Ok: queued as 4Xy1"


# -- envelope ---------------------------------------------------------------------------


def envelope(raw: bytes) -> tuple[str, list[str]]:
    """The SMTP envelope of ``raw``: (sender, recipients).

    The sender is the Sender address if present, else the (single) From address. The
    recipients are every address in To, Cc and Bcc (groups flattened), duplicates removed
    case-insensitively, in order. Bcc recipients are included, so the caller must send
    ``strip_bcc(raw)``. Raises ``ValueError`` when there is no sender or no recipient.
    """
    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    senders = _addresses(headers, "Sender") or _addresses(headers, "From")
    if not senders:
        raise ValueError("the message has no From address")
    recipients: list[str] = []
    seen: set[str] = set()
    for name in ("To", "Cc", "Bcc"):
        for address in _addresses(headers, name):
            if address.casefold() not in seen:
                seen.add(address.casefold())
                recipients.append(address)
    if not recipients:
        raise ValueError("the message has no recipients (To, Cc or Bcc)")
    return senders[0], recipients


def _addresses(headers: Message, name: str) -> list[str]:
    found: list[str] = []
    for header in headers.get_all(name, []):
        if isinstance(header, AddressHeader):
            found.extend(address.addr_spec for address in header.addresses if address.username)
    return found


def strip_bcc(raw: bytes) -> bytes:
    """``raw`` without its Bcc (and Resent-Bcc) fields, folded lines included.

    Works on the bytes: every other header line and the body are returned unchanged.
    """
    header_end = _header_end(raw)
    kept: list[bytes] = []
    dropping = False
    for line in raw[:header_end].splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):  # a continuation of the field before
            if not dropping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        dropping = b":" in line and name in _BCC_FIELDS
        if not dropping:
            kept.append(line)
    return b"".join(kept) + raw[header_end:]


def _header_end(raw: bytes) -> int:
    """The offset where the header section ends (the empty line, or the end)."""
    offset = 0
    for line in raw.splitlines(keepends=True):
        if line in (b"\r\n", b"\n", b"\r"):
            return offset
        offset += len(line)
    return offset


def _has_bcc(raw: bytes) -> bool:
    return strip_bcc(raw) != raw


# -- sending ----------------------------------------------------------------------------


async def send(
    raw: bytes,
    *,
    host: str,
    port: int,
    tls: TlsMode,
    ca_file: str | Path | None = None,
    username: str | None,
    password: str | None,
    sender: str,
    recipients: Sequence[str],
    timeout: float = DEFAULT_TIMEOUT,
    local_hostname: str = DEFAULT_LOCAL_HOSTNAME,
) -> SendResult:
    """Submit ``raw`` over one TLS session with AUTH; see the module docstring for errors.

    ``username=None`` skips AUTH (for relays that trust the client). ``timeout`` applies
    to each network step (connect, handshake, every reply). Lone CR/LF in ``raw`` are sent
    as CRLF. ``ValueError`` means a caller bug: a Bcc field left in ``raw``, no recipients,
    an unknown ``tls`` mode, an address with control characters.
    """
    if tls not in ("ssl", "starttls"):
        raise ValueError(f"unknown TLS mode {tls!r}")
    if not recipients:
        raise ValueError("no recipients")
    if _has_bcc(raw):
        raise ValueError("the message still has a Bcc header: send strip_bcc(raw)")
    secret = password or ""
    session = _Session(host, port, secret)
    context = create_context(ca_file=ca_file)
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        use_tls=tls == "ssl",
        start_tls=False,
        tls_context=context,
        timeout=timeout,
        local_hostname=local_hostname,
    )
    try:
        return await session.run(
            client,
            raw,
            starttls=tls == "starttls",
            username=username,
            sender=sender,
            recipients=list(recipients),
            timeout=timeout,
        )
    except TransportError:
        raise
    except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as error:
        raise session.translate(error) from error
    finally:
        await _close(client, session.protocol)


class _Session:
    """One submission; remembers the step reached to translate failures."""

    def __init__(self, host: str, port: int, password: str) -> None:
        self.host = host
        self.port = port
        self.password = password
        self.step = _CONNECT
        self.protocol: SMTPProtocol | None = None

    async def run(
        self,
        client: aiosmtplib.SMTP,
        raw: bytes,
        *,
        starttls: bool,
        username: str | None,
        sender: str,
        recipients: list[str],
        timeout: float,
    ) -> SendResult:
        await client.connect()
        self.protocol = client.protocol
        if starttls:
            self.step = _STARTTLS
            await client.ehlo()
            if not client.supports_extension("starttls"):
                raise TlsError(f"{self.host} does not offer STARTTLS; refusing to send in clear")
            await client.starttls()
        self.step = _EHLO
        await client.ehlo()
        if username is not None:
            self.step = _AUTH
            await client.login(username, self.password)

        self.step = _MAIL
        payload = _data_payload(raw)
        international = not all(address.isascii() for address in (sender, *recipients))
        options: list[str] = []
        if client.supports_extension("size"):
            options.append(f"SIZE={len(payload)}")
        if not raw.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        if international:
            if not client.supports_extension("smtputf8"):
                raise ServerError(
                    f"{self.host} does not accept internationalised addresses (SMTPUTF8)",
                    code=None,
                )
            options.append("SMTPUTF8")
        encoding = "utf-8" if international else "ascii"
        await client.mail(sender, options=options, encoding=encoding)

        self.step = _RCPT
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in recipients:
            try:
                await client.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as error:
                refused.append(error)
        if refused:
            await _reset(client)
            raise self._refused(refused)

        # DATA by hand (not client.data()) to know whether the final "." went out.
        self.step = _DATA
        reply = await client.execute_command(b"DATA")
        if reply.code != 354:
            raise self._server_error("the server refused DATA", reply.code, reply.message)
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        protocol.write(_stuffed(payload))
        self.step = _SENT
        reply = await protocol.read_response(timeout=timeout)
        if reply.code != 250:
            raise self._server_error("the server refused the message", reply.code, reply.message)

        # The message is accepted; how the session ends does not matter.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
        return SendResult(server_response=self._clean(reply.message))

    # -- translation ------------------------------------------------------------------

    def translate(self, error: BaseException) -> TransportError:
        """The transport error for ``error`` raised at the current step."""
        where = f"{self.host}:{self.port}"
        tls_failure = _ssl_error(error)
        if tls_failure is not None and self.step in (_CONNECT, _STARTTLS):
            return TlsError(f"TLS with {where} failed: {self._clean(_ssl_text(tls_failure))}")
        if isinstance(error, aiosmtplib.SMTPAuthenticationError):
            return AuthenticationError(
                f"{where} refused the login: {error.code} {self._clean(error.message)}"
            )
        if isinstance(error, aiosmtplib.SMTPResponseException) and not isinstance(
            error, aiosmtplib.SMTPConnectResponseError
        ):
            if error.code == 530 or (self.step == _MAIL and error.code == 535):
                return AuthenticationError(
                    f"{where} requires a login: {error.code} {self._clean(error.message)}"
                )
            if isinstance(error, aiosmtplib.SMTPSenderRefused):
                return self._server_error(
                    f"the server refused the sender {error.sender}", error.code, error.message
                )
            return self._server_error(
                f"the server refused {_REFUSED_TEXT[self.step]}", error.code, error.message
            )
        if self.step == _CONNECT:
            if isinstance(error, aiosmtplib.SMTPConnectTimeoutError):
                return TransportError(f"cannot connect to {where}: timed out")
            if isinstance(error, aiosmtplib.SMTPConnectResponseError):
                return TransportError(
                    f"{where} refused the connection: {error.code} {self._clean(error.message)}"
                )
            return TransportError(f"cannot connect to {where}: {self._clean(_reason(error))}")
        if self.step == _AUTH and type(error) is aiosmtplib.SMTPException:
            return AuthenticationError(f"cannot log in to {where}: {self._clean(error.message)}")
        if self.step == _STARTTLS and type(error) is aiosmtplib.SMTPException:
            return TlsError(f"cannot start TLS with {where}: {self._clean(error.message)}")
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            return ServerError(f"{where}: {self._clean(error.message)}", code=None)
        maybe = self.step == _SENT
        if isinstance(error, aiosmtplib.SMTPTimeoutError):
            what = f"{where} stopped answering {_STEP_TEXT[self.step]}"
        else:
            what = f"the connection to {where} was lost {_STEP_TEXT[self.step]}"
        if maybe:
            what += "; the message may have been delivered"
        return ConnectionLostError(what, maybe_delivered=maybe)

    def _refused(self, refused: list[aiosmtplib.SMTPRecipientRefused]) -> ServerError:
        details = "; ".join(
            f"{error.recipient}: {error.code} {self._clean(error.message)}" for error in refused
        )
        permanent = [error.code for error in refused if error.code >= 500]
        return ServerError(
            self._clean(f"the server refused {len(refused)} recipient(s), nothing sent: {details}"),
            code=permanent[0] if permanent else refused[0].code,
        )

    def _server_error(self, what: str, code: int, message: str) -> ServerError:
        return ServerError(f"{what}: {code} {self._clean(message)}", code=code)

    def _clean(self, text: str) -> str:
        """One line, bounded, and never the password (a server may echo what it got)."""
        if self.password:
            text = text.replace(self.password, "***")
        text = " ".join(text.split())
        if len(text) > _MAX_DETAIL:
            text = text[: _MAX_DETAIL - 1] + "…"
        return text


async def _close(client: aiosmtplib.SMTP, protocol: SMTPProtocol | None) -> None:
    """Drop the connection now (no TLS close_notify) and wait until the socket is closed.

    ``SMTP.close()`` alone starts a TLS shutdown that can outlive a short-lived event loop
    (``asyncio.run``), leaving the socket to the garbage collector.
    """
    transports = [client.transport, protocol.transport if protocol is not None else None]
    for transport in transports:
        if isinstance(transport, asyncio.Transport):
            transport.abort()
    client.close()
    for _ in range(100):  # connection_lost runs one or two loop iterations later
        await asyncio.sleep(0)
        if protocol is None or protocol.transport is None:
            break
    await asyncio.sleep(0)


async def _reset(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await client.rset()


def _data_payload(raw: bytes) -> bytes:
    """``raw`` with CRLF line endings and a final CRLF, as SMTP carries it."""
    payload = _LINE_ENDINGS.sub(b"\r\n", raw)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload


def _stuffed(payload: bytes) -> bytes:
    """The DATA transfer: leading dots doubled, then the terminating "."."""
    return _LEADING_DOT.sub(b"..", payload) + b".\r\n"


def _ssl_error(error: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _ssl_text(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"the server certificate is not trusted ({error.verify_message})"
    return error.reason or str(error)


def _reason(error: BaseException) -> str:
    """The innermost OS reason ("Connection refused") for a connection failure."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, OSError):
            code = current.errno
            if code is not None and code in errno.errorcode:
                return os.strerror(code)
            if current.strerror:
                return current.strerror
        current = current.__cause__ or current.__context__
    return str(error)
