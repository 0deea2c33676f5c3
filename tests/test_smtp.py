"""SMTP submission against a real aiosmtpd server on loopback (tests/smtp_server.py).

Coroutines run under ``asyncio.run`` in plain tests (no pytest-asyncio). Every fault is a
real one: a refusing server, a server that drops the connection, a proxy that cuts the
TCP connection at each step of the session.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inbox_app.errors import InboxError
from inbox_app.transport.errors import (
    AuthenticationError,
    ConnectionLostError,
    ServerError,
    TlsError,
    TransportError,
)
from inbox_app.transport.smtp import SendResult, envelope, send, strip_bcc
from tests.smtp_server import SmtpServer, TcpProxy

SENDER = "alice@example.org"
RECIPIENT = "bob@example.net"
PASSWORD = "secret"  # tests/smtp_server.py USERS
MESSAGE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Message-ID: <test-1@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello Bob,\r\n"
    b".a line starting with a dot\r\n"
    b".\r\n"
    b"..two dots\r\n"
    b"Bcc: not a header, just body text\r\n"
)
BIG_MESSAGE = MESSAGE + b"".join(b"line %05d of a longer body\r\n" % i for i in range(3000))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path / "Maildir") as running:
        yield running


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path / "Maildir", implicit_tls=True) as running:
        yield running


def _send(server: SmtpServer, raw: bytes = MESSAGE, **overrides: Any) -> SendResult:
    arguments: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "tls": "ssl" if server.implicit_tls else "starttls",
        "ca_file": str(server.ca_file),
        "username": "test",
        "password": PASSWORD,
        "sender": SENDER,
        "recipients": [RECIPIENT],
        "timeout": 5.0,
    }
    arguments.update(overrides)
    return asyncio.run(send(raw, **arguments))


def _one_line(error: BaseException, *, secret: str = PASSWORD) -> str:
    text = str(error)
    assert "\n" not in text
    assert "\r" not in text
    assert secret not in text
    assert secret not in repr(error.args)
    return text


# -- delivery ---------------------------------------------------------------------------


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "ssl"])
def test_message_lands_in_the_maildir_byte_for_byte(tmp_path: Path, implicit_tls: bool) -> None:
    with SmtpServer(tmp_path / "Maildir", implicit_tls=implicit_tls) as server:
        result = _send(server)
        assert "queued" in result.server_response
        [path] = server.delivered()
        assert path.read_bytes() == MESSAGE
        [received] = server.received
        assert received.mail_from == SENDER
        assert received.rcpt_tos == (RECIPIENT,)
        assert not list((tmp_path / "Maildir" / "tmp").iterdir())


def test_bare_lf_is_sent_as_crlf_and_a_final_newline_added(server: SmtpServer) -> None:
    raw = MESSAGE.replace(b"\r\n", b"\n").rstrip(b"\n")
    _send(server, raw)
    assert server.delivered()[0].read_bytes() == MESSAGE


def test_several_messages_and_a_large_one(server: SmtpServer) -> None:
    _send(server, BIG_MESSAGE, recipients=[RECIPIENT, "carol@example.com"])
    _send(server)
    assert [r.content for r in server.received] == [BIG_MESSAGE, MESSAGE]
    assert server.received[0].rcpt_tos == (RECIPIENT, "carol@example.com")


def test_bcc_recipients_get_the_message_without_the_bcc_header(server: SmtpServer) -> None:
    raw = MESSAGE.replace(
        b"MIME-Version: 1.0\r\n",
        b"Cc: Carol <carol@example.com>\r\nBcc: Dave <dave@example.com>,\r\n"
        b" erin@example.com\r\nMIME-Version: 1.0\r\n",
    )
    sender, recipients = envelope(raw)
    assert recipients == [RECIPIENT, "carol@example.com", "dave@example.com", "erin@example.com"]
    _send(server, strip_bcc(raw), sender=sender, recipients=recipients)
    [received] = server.received
    assert received.rcpt_tos == tuple(recipients)
    header, _, body = received.content.partition(b"\r\n\r\n")
    assert b"bcc" not in header.lower()
    assert b"dave" not in header
    assert b"erin" not in header
    assert received.content == MESSAGE.replace(
        b"MIME-Version: 1.0\r\n", b"Cc: Carol <carol@example.com>\r\nMIME-Version: 1.0\r\n"
    )
    assert body.endswith(b"Bcc: not a header, just body text\r\n")


def test_send_refuses_a_message_that_still_has_bcc(server: SmtpServer) -> None:
    with pytest.raises(ValueError, match="Bcc"):
        _send(server, b"Bcc: x@example.com\r\n" + MESSAGE)
    assert server.received == []


# -- authentication and TLS -------------------------------------------------------------


def test_auth_is_required(server: SmtpServer) -> None:
    with pytest.raises(AuthenticationError) as caught:
        _send(server, username=None, password=None)
    assert "530" in _one_line(caught.value)
    assert server.received == []


def test_wrong_password_is_refused_without_echoing_it(server: SmtpServer) -> None:
    with pytest.raises(AuthenticationError) as caught:
        _send(server, password="hunter2-wrong")
    text = _one_line(caught.value, secret="hunter2-wrong")
    assert "535" in text
    assert isinstance(caught.value, TransportError)
    assert isinstance(caught.value, InboxError)
    assert isinstance(caught.value, ConnectionError)
    assert server.received == []


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "ssl"])
def test_untrusted_certificate_is_a_tls_error(tmp_path: Path, implicit_tls: bool) -> None:
    with SmtpServer(tmp_path / "Maildir", implicit_tls=implicit_tls) as server:
        with pytest.raises(TlsError) as caught:
            _send(server, ca_file=None)
        assert "certificate" in _one_line(caught.value)
        assert server.received == []


def test_certificate_for_another_name_is_a_tls_error(server: SmtpServer) -> None:
    # The certificate covers localhost and 127.0.0.1, not 127.0.0.2 (also loopback).
    with (
        TcpProxy(server.port, listen_host="127.0.0.2") as proxy,
        pytest.raises(TlsError) as caught,
    ):
        _send(server, host="127.0.0.2", port=proxy.port)
    assert "certificate" in _one_line(caught.value)


def test_starttls_to_an_implicit_tls_port_times_out_cleanly(tls_server: SmtpServer) -> None:
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        _send(tls_server, tls="starttls", timeout=0.5)
    assert time.monotonic() - started < 3
    assert "timed out" in _one_line(caught.value)


# -- connection failures ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_port_fails_quickly(server: SmtpServer) -> None:
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        _send(server, port=_closed_port())
    assert time.monotonic() - started < 2
    assert not isinstance(caught.value, ConnectionLostError | TlsError | AuthenticationError)
    text = _one_line(caught.value)
    assert "cannot connect" in text
    assert "refused" in text.lower()


def test_silent_server_times_out(server: SmtpServer) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            _send(server, port=port, timeout=0.3)
        assert time.monotonic() - started < 2
    assert "timed out" in _one_line(caught.value)


# -- the server refuses -----------------------------------------------------------------


def test_refused_recipient_names_the_code(server: SmtpServer) -> None:
    server.refused_recipients["nobody@example.net"] = "550 5.1.1 <nobody@example.net> unknown"
    with pytest.raises(ServerError) as caught:
        _send(server, recipients=[RECIPIENT, "nobody@example.net"])
    text = _one_line(caught.value)
    assert "550" in text
    assert "nobody@example.net" in text
    assert caught.value.code == 550
    assert server.received == []  # never a silent partial send


def test_temporarily_refused_recipient(server: SmtpServer) -> None:
    server.refused_recipients[RECIPIENT] = "450 4.2.1 mailbox busy"
    with pytest.raises(ServerError) as caught:
        _send(server)
    assert caught.value.code == 450
    assert "450" in _one_line(caught.value)


@pytest.mark.parametrize(
    ("reply", "code"),
    [("451 4.3.0 try again later", 451), ("554 5.6.0 message rejected", 554)],
)
def test_refusal_at_data(server: SmtpServer, reply: str, code: int) -> None:
    server.data_reply = reply
    with pytest.raises(ServerError) as caught:
        _send(server)
    assert caught.value.code == code
    assert str(code) in _one_line(caught.value)
    assert server.delivered() == []
    server.data_reply = None
    _send(server)  # the server is fine again: a new session works
    assert len(server.delivered()) == 1


# -- the connection is lost -------------------------------------------------------------


def test_server_drops_the_connection_after_delivering(server: SmtpServer) -> None:
    server.drop_after_data = True
    with pytest.raises(ConnectionLostError) as caught:
        _send(server)
    assert caught.value.maybe_delivered is True
    assert "may have been delivered" in _one_line(caught.value)
    assert len(server.delivered()) == 1  # it was in fact delivered: the outbox must check


def test_server_silent_after_the_message(server: SmtpServer) -> None:
    def stall(stage: str) -> None:
        if stage == "MESSAGE":
            time.sleep(0.8)

    server.stage_listener = stall
    with pytest.raises(ConnectionLostError) as caught:
        _send(server, timeout=0.3)
    assert caught.value.maybe_delivered is True
    _one_line(caught.value)


@pytest.mark.parametrize(
    ("stage", "after_bytes", "maybe_delivered"),
    [
        (None, 0, False),  # the client's first byte (EHLO) never reaches the server
        ("STARTTLS", 0, False),  # right after the TLS handshake
        ("AUTH", 0, False),  # the server checked the password, the reply is lost
        ("MAIL", 0, False),
        ("RCPT", 0, False),
        ("DATA", 0, False),  # DATA sent, 354 never arrives
        ("DATA", 4000, True),  # in the middle of the message: indistinguishable, so "maybe"
        ("MESSAGE", 0, True),  # after the final ".", before the 250
    ],
    ids=[
        "before-ehlo",
        "after-starttls",
        "after-auth",
        "after-mail",
        "after-rcpt",
        "after-data-command",
        "during-data",
        "before-final-reply",
    ],
)
def test_cut_at_each_step(
    server: SmtpServer, stage: str | None, after_bytes: int, maybe_delivered: bool
) -> None:
    with TcpProxy(server.port) as proxy:
        if stage is None:
            proxy.cut_after(0)
        else:
            proxy.cut_on(stage, after_bytes=after_bytes)
            server.stage_listener = proxy.notify
        started = time.monotonic()
        with pytest.raises(ConnectionLostError) as caught:
            _send(server, BIG_MESSAGE, port=proxy.port)
        assert time.monotonic() - started < 3
        assert proxy.cuts == 1
    assert caught.value.maybe_delivered is maybe_delivered
    text = _one_line(caught.value)
    assert "lost" in text
    assert ("may have been delivered" in text) is maybe_delivered
    # After the final "." the server has the message: only the reply was lost.
    expected = 1 if stage == "MESSAGE" else 0
    deadline = time.monotonic() + 2
    while len(server.delivered()) < expected and time.monotonic() < deadline:
        time.sleep(0.01)  # the server thread delivers just after the cut
    assert len(server.delivered()) == expected


def test_cut_during_the_tls_handshake(server: SmtpServer) -> None:
    cut_after = len(b"EHLO [127.0.0.1]\r\n") + len(b"STARTTLS\r\n") + 100
    with TcpProxy(server.port) as proxy:
        proxy.cut_after(cut_after)
        with pytest.raises((TlsError, ConnectionLostError)) as caught:
            _send(server, port=proxy.port)
    _one_line(caught.value)


def test_cut_before_the_greeting(server: SmtpServer) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_and_close() -> None:
        connection, _ = listener.accept()
        connection.close()

    thread = threading.Thread(target=accept_and_close)
    thread.start()
    try:
        with pytest.raises(TransportError) as caught:
            _send(server, port=port)
    finally:
        thread.join()
        listener.close()
    assert "cannot connect" in _one_line(caught.value)


# -- envelope() and strip_bcc() ---------------------------------------------------------


def test_envelope_reads_from_to_cc_bcc() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>\r\n"
        b"To: Bob <bob@example.net>,\r\n"
        b'\t"Smith, Carol" <carol@example.com>\r\n'
        b"To: dave@example.com\r\n"
        b"Cc: =?iso-8859-1?q?=C9ric?= <eric@example.fr>, BOB@example.net\r\n"
        b"Cc: Friends: frank@example.org, grace@example.org;\r\n"
        b"Bcc: heidi@example.org\r\n"
        b"Subject: folded\r\n"
        b" subject\r\n"
        b"\r\n"
        b"To: not-a-header@example.org\r\n"
    )
    sender, recipients = envelope(raw)
    assert sender == "joerg@example.de"
    assert recipients == [
        "bob@example.net",
        "carol@example.com",
        "dave@example.com",
        "eric@example.fr",
        "frank@example.org",
        "grace@example.org",
        "heidi@example.org",
    ]


def test_envelope_prefers_sender_and_handles_lf() -> None:
    raw = (
        b"From: a@example.org, b@example.org\n"
        b"Sender: Secretary <sec@example.org>\n"
        b"To: undisclosed-recipients:;\n"
        b"Bcc: x@example.org\n"
        b"\n"
        b"body\n"
    )
    assert envelope(raw) == ("sec@example.org", ["x@example.org"])


@pytest.mark.parametrize(
    "raw",
    [b"To: b@example.org\r\n\r\nbody\r\n", b"From: a@example.org\r\nSubject: x\r\n\r\n"],
    ids=["no-from", "no-recipients"],
)
def test_envelope_needs_a_sender_and_recipients(raw: bytes) -> None:
    with pytest.raises(ValueError, match="no"):
        envelope(raw)


def test_strip_bcc_removes_folded_bcc_and_keeps_everything_else() -> None:
    raw = (
        b"From: a@example.org\r\n"
        b"BCC: x@example.org,\r\n"
        b"  y@example.org,\r\n"
        b"\tz@example.org\r\n"
        b"To: b@example.org\r\n"
        b"Resent-Bcc: r@example.org\r\n"
        b"X-Folded: one\r\n"
        b" two\r\n"
        b"\r\n"
        b"Bcc: body text stays\r\n"
        b"\xff\xfe binary-ish body \r\n"
    )
    assert strip_bcc(raw) == (
        b"From: a@example.org\r\n"
        b"To: b@example.org\r\n"
        b"X-Folded: one\r\n"
        b" two\r\n"
        b"\r\n"
        b"Bcc: body text stays\r\n"
        b"\xff\xfe binary-ish body \r\n"
    )


def test_strip_bcc_with_lf_endings_and_without_body() -> None:
    assert strip_bcc(b"To: a@example.org\nBcc: b@example.org\n") == b"To: a@example.org\n"
    assert strip_bcc(b"Bcc:\nTo: a@example.org\n\nx") == b"To: a@example.org\n\nx"
    assert strip_bcc(MESSAGE) == MESSAGE
    assert strip_bcc(b"X-Bcc-Note: kept\r\n\r\n") == b"X-Bcc-Note: kept\r\n\r\n"
