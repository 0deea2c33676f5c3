"""IMAP over imapclient: one blocking session per account (run it in an executor).

Every call speaks UIDs (RFC 3501 §2.3.1.1) and takes lists of them: imapclient 4.x cannot
take range strings such as ``"1:*"``. The FETCH commands of a sync (summaries, flags,
CONDSTORE changes) bypass imapclient: they send compact UID sets ("1:5000") and read the
answer as a stream with :mod:`inbox_app.transport._fetch`, several times faster than
imapclient's generic parser.

Every library error (imapclient, imaplib, ssl, socket) is translated into
:mod:`inbox_app.transport.errors` here, at the boundary; the password never reaches a
message, and the session never keeps it after logging in.

Synchronisation support:

- CONDSTORE (RFC 7162 §3.1) is enabled when offered, so ``select`` reports
  HIGHESTMODSEQ and ``changes_since`` asks for ``(CHANGEDSINCE m)``.
- QRESYNC (RFC 7162 §3.2) is enabled when offered: ``changes_since`` then adds the
  VANISHED modifier (§3.2.6) and gets expunged UIDs from the server, and ``resync``
  sends ``SELECT folder (QRESYNC (uidvalidity modseq))`` (§3.2.5). Without QRESYNC,
  ``changes_since(known_uids=...)`` finds vanished UIDs by comparing UID lists.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)
from imapclient.response_parser import parse_fetch_response  # type: ignore[import-untyped]

from inbox_app.transport import _fetch
from inbox_app.transport.errors import (
    AuthenticationError,
    ConnectionLostError,
    ServerError,
    TlsError,
    TransportError,
)
from inbox_app.transport.tls import create_context, describe

Security = Literal["signed", "encrypted", "signed+encrypted", "none"]
TlsMode = Literal["ssl", "starttls"]

# RFC 6154 special-use attributes and the role names we give them.
_SPECIAL_USE = {
    b"\\INBOX": "inbox",
    b"\\SENT": "sent",
    b"\\DRAFTS": "drafts",
    b"\\TRASH": "trash",
    b"\\ARCHIVE": "archive",
    b"\\JUNK": "junk",
}
# Servers without SPECIAL-USE: the names other clients create (compared case-insensitively
# on the last path element).
_COMMON_NAMES = {
    "sent": ("sent", "sent items", "sent messages", "sent mail", "gesendet", "envoyés"),
    "drafts": ("drafts", "draft", "entwürfe", "brouillons"),
    "trash": ("trash", "deleted items", "deleted messages", "bin", "papierkorb", "corbeille"),
    "archive": ("archive", "archives", "archiv"),
    "junk": ("junk", "spam", "junk e-mail", "junk email", "bulk mail"),
}
_SUMMARY_HEADERS = b"FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE"
_SUMMARY_ITEMS = [
    "UID",
    "FLAGS",
    "INTERNALDATE",
    "RFC822.SIZE",
    f"BODY.PEEK[HEADER.FIELDS ({_SUMMARY_HEADERS.decode()})]",
]
_SUMMARY_REQUEST = " ".join(_SUMMARY_ITEMS).encode()
# The section as the server names it in its answer (RFC 3501 §7.4.2: without ".PEEK").
_HEADER_KEY = b"BODY[HEADER.FIELDS (" + _SUMMARY_HEADERS + b")]"
_CHANGE_RESPONSES = {b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED"}
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_SMIME_SIGNATURES = {"application/pkcs7-signature", "application/x-pkcs7-signature"}
_SMIME_OBJECTS = {"application/pkcs7-mime", "application/x-pkcs7-mime"}


class Folder(NamedTuple):
    """A selectable folder: its full name and its role ("inbox", "sent", ... or None)."""

    name: str
    role: str | None


@dataclass(frozen=True)
class FolderStatus:
    """What SELECT reported: compare ``uidvalidity`` before trusting any stored UID."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None  # None: the server has no CONDSTORE for this folder
    exists: int


@dataclass(frozen=True)
class Summary:
    """One message as the message list needs it (no body fetched)."""

    uid: int
    flags: frozenset[str]
    internaldate: datetime | None
    size: int
    sender: str  # the From field, decoded
    subject: str
    date: datetime | None
    message_id: str
    security: Security


@dataclass(frozen=True)
class Changes:
    """What changed in the selected folder since a modification sequence."""

    flags: dict[int, frozenset[str]]  # UID -> its flags now, for changed messages
    vanished: frozenset[int]  # UIDs expunged since (QRESYNC, or from ``known_uids``)
    vanished_known: bool  # False: the server cannot tell and no UID list was given


def classify_security(content_type: str | None) -> Security:
    """The S/MIME kind of a message from its top-level Content-Type field.

    Only the MIME root counts (RFC 8551 §3): a signature deeper inside is not the
    message's protection. Opaque ``application/pkcs7-mime`` is "signed" for
    ``smime-type=signed-data`` and "encrypted" for ``enveloped-data`` or
    ``authEnveloped-data`` (and when smime-type is missing, as old clients send it for
    encrypted mail); ``multipart/signed`` with an S/MIME protocol is "signed". Whether an
    encrypted message is also signed is known only after decryption, so this never
    answers "signed+encrypted".
    """
    if not content_type:
        return "none"
    return _security_of(" ".join(content_type.split()))


def _security_of(content_type: str) -> Security:
    """Classify a root Content-Type value (RFC 8551 §3.2.2 smime-type)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    params = {
        name.lower(): (quoted if quoted else bare).lower()
        for name, quoted, bare in _PARAM.findall(content_type)
    }
    if kind == "multipart/signed":
        protocol = params.get("protocol", "")
        # No protocol at all: malformed, but S/MIME is what we read; PGP is not ours.
        return "signed" if not protocol or protocol in _SMIME_SIGNATURES else "none"
    if kind in _SMIME_OBJECTS:
        smime_type = params.get("smime-type", "")
        if smime_type == "signed-data":
            return "signed"
        if smime_type in {"enveloped-data", "authenveloped-data", ""}:
            return "encrypted"
    return "none"


_PARAM = re.compile(r';\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]+))')
_FIELD = re.compile(rb"^([^:\s]+)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)


def _header_fields(header_bytes: bytes) -> dict[str, str]:
    """The first value of each field, unfolded: a dict, cheap (a sync makes thousands)."""
    fields: dict[str, str] = {}
    for name, value in _FIELD.findall(header_bytes):
        key = name.decode("ascii", "replace").lower()
        if key not in fields:
            text = value.decode("utf-8", "replace")
            fields[key] = " ".join(text.split())
    return fields


class ImapSession:
    """A logged-in IMAP connection; use :meth:`connect`, preferably as a context manager.

    Not thread-safe: one session is used by one executor job at a time.
    """

    def __init__(self, client: Any, host: str, port: int) -> None:
        self._client = client
        self._host = host
        self._port = port
        self._enabled: frozenset[str] = frozenset()
        self._selected: str | None = None

    # -- connection ----------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        *,
        tls: TlsMode = "ssl",
        ca_file: str | Path | None = None,
        username: str,
        password: str,
        timeout: float = 30.0,
    ) -> Self:
        """Connect over TLS ("ssl": implicit TLS, RFC 8314; "starttls"), log in.

        Raises:
            TransportError: the host cannot be reached ("cannot connect to host:port").
            TlsError: the certificate is not trusted, names another host, or the server
                offers no STARTTLS (never falls back to plain text).
            AuthenticationError: the user name or password was rejected.
        """
        if tls not in ("ssl", "starttls"):
            raise ValueError(f"tls must be 'ssl' or 'starttls', not {tls!r}")
        context = create_context(ca_file=ca_file)
        where = f"{host}:{port}"
        try:
            client = IMAPClient(
                host, port=port, ssl=tls == "ssl", ssl_context=context, timeout=timeout
            )
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(f"the certificate of {where} is not trusted: {describe(exc)}") from exc
        except ssl.SSLError as exc:
            raise TlsError(f"TLS with {where} failed: {describe(exc)}") from exc
        except (OSError, IMAPClientError) as exc:
            raise TransportError(f"cannot connect to {where}: {describe(exc)}") from exc
        client.normalise_times = False  # keep INTERNALDATE's zone (aware datetimes)
        session = cls(client, host, port)
        try:
            if tls == "starttls":
                session._starttls(context)
            session._login(username, password)
            session._enable_extensions()
        except BaseException:
            session.close()
            raise
        return session

    def _starttls(self, context: ssl.SSLContext) -> None:
        where = f"{self._host}:{self._port}"
        try:
            offered = self._client.has_capability("STARTTLS")
        except (OSError, IMAPClientError) as exc:
            raise ConnectionLostError(f"lost the connection to {where}: {describe(exc)}") from exc
        if not offered:
            raise TlsError(f"{where} does not offer STARTTLS: refusing to send a password")
        try:
            self._client.starttls(context)
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(f"the certificate of {where} is not trusted: {describe(exc)}") from exc
        except (ssl.SSLError, IMAPClientError) as exc:
            raise TlsError(f"STARTTLS with {where} failed: {describe(exc)}") from exc
        except OSError as exc:
            raise ConnectionLostError(f"lost the connection to {where}: {describe(exc)}") from exc

    def _login(self, username: str, password: str) -> None:
        try:
            self._client.login(username, password)
        except LoginError as exc:
            # RFC 5530 response codes: UNAVAILABLE and SERVERBUG are not the user's fault.
            reason = str(exc).upper()
            if "[UNAVAILABLE]" in reason or "[SERVERBUG]" in reason:
                raise ServerError(
                    f"{self._host} cannot log you in right now; try again later"
                ) from exc
            # imaplib's errors quote the server's reply, never the command's arguments.
            raise AuthenticationError(
                f"{self._host} rejected the user name or password for {username}"
            ) from exc
        except IMAPClientAbortError as exc:
            raise ConnectionLostError(f"{self._host} closed the connection at login") from exc
        except (OSError, IMAPClientError) as exc:
            raise ConnectionLostError(
                f"lost the connection to {self._host} at login: {describe(exc)}"
            ) from exc

    def _enable_extensions(self) -> None:
        caps = self.capabilities
        wanted = [name for name in ("QRESYNC", "CONDSTORE") if name in caps]
        if not wanted or "ENABLE" not in caps:
            return
        with self._guard("enable extensions"):
            enabled = self._client.enable(*wanted)
        self._enabled = frozenset(_text(name).upper() for name in enabled)
        if "QRESYNC" in self._enabled:
            self._enabled |= {"CONDSTORE"}  # RFC 7162 §3.2.3: QRESYNC implies CONDSTORE

    def close(self) -> None:
        """Log out (best effort) and close the socket; safe to call twice."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # already broken: closing is all that is left
            with contextlib.suppress(Exception):
                client.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- capabilities and folders --------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[str]:
        """The server's capabilities, upper case (``"IDLE"``, ``"MOVE"``, ...)."""
        with self._guard("read the capabilities"):
            return frozenset(_text(name).upper() for name in self._live.capabilities())

    @property
    def condstore(self) -> bool:
        """CONDSTORE is enabled: modification sequences are available."""
        return "CONDSTORE" in self._enabled

    @property
    def qresync(self) -> bool:
        """QRESYNC is enabled: the server reports expunged UIDs (VANISHED)."""
        return "QRESYNC" in self._enabled

    @property
    def idle_supported(self) -> bool:
        return "IDLE" in self.capabilities

    def folders(self) -> list[Folder]:
        """Every selectable folder with its role: special-use flags first, then names."""
        caps = self.capabilities
        with self._guard("list the folders"):
            if "SPECIAL-USE" in caps and "LIST-EXTENDED" in caps:
                # RFC 6154 §5.1: only LIST ... RETURN (SPECIAL-USE) must carry the flags.
                data = self._live._raw_command_untagged(
                    b"LIST", [b'""', b'"*"', b"RETURN", b"(SPECIAL-USE)"], uid=False
                )
                listing = self._live._proc_folder_list(data)
            else:
                listing = self._live.list_folders()
        entries: list[tuple[str, set[bytes]]] = []
        leaves: dict[str, str] = {}
        for flags, delimiter, name in listing:
            upper = {_bytes(flag).upper() for flag in flags}
            if upper & {b"\\NOSELECT", b"\\NONEXISTENT"}:
                continue
            text = _text(name)
            entries.append((text, upper))
            leaves[text] = text.rsplit(_text(delimiter), 1)[-1] if delimiter else text
        roles: dict[str, str] = {}
        taken: set[str] = set()
        for name, flags in entries:
            if name.upper() == "INBOX":
                roles[name] = "inbox"
                taken.add("inbox")
                continue
            for flag in sorted(flags):
                role = _SPECIAL_USE.get(flag)
                if role is not None and role not in taken:
                    roles[name] = role
                    taken.add(role)
                    break
        for role, names in _COMMON_NAMES.items():
            if role in taken:
                continue
            for wanted in names:
                match = next(
                    (
                        name
                        for name, _flags in entries
                        if name not in roles and leaves[name].casefold() == wanted
                    ),
                    None,
                )
                if match is not None:
                    roles[match] = role
                    taken.add(role)
                    break
        return [Folder(name, roles.get(name)) for name, _flags in entries]

    def create_folder(self, name: str, *, role: str | None = None) -> None:
        """Create a folder, marked with a special-use role where the server allows it.

        Without CREATE-SPECIAL-USE (RFC 6154 §3) the role is not sent: :meth:`folders`
        then finds the role by the folder's name.
        """
        use = next((flag for flag, known in _SPECIAL_USE.items() if known == role), None)
        with self._guard(f"create the folder {name}"):
            if use is not None and use != b"\\INBOX" and "CREATE-SPECIAL-USE" in self.capabilities:
                folder = self._live._normalise_folder(name)
                self._live._raw_command_untagged(
                    b"CREATE", [folder, b"(USE (" + _SPECIAL_NAME[use] + b"))"], uid=False
                )
            else:
                self._live.create_folder(name)

    def delete_folder(self, name: str) -> None:
        """Delete a folder and the messages in it."""
        with self._guard(f"delete the folder {name}"):
            if self._selected == name:
                self._live.close_folder()
                self._selected = None
            self._live.delete_folder(name)

    # -- selecting and reading -----------------------------------------------------------

    def select(self, folder: str, *, readonly: bool = False) -> FolderStatus:
        """Select ``folder``; compare the returned ``uidvalidity`` with the stored one."""
        with self._guard(f"open {folder}"):
            response = self._live.select_folder(folder, readonly=readonly)
        self._selected = folder
        return _status(response)

    def resync(
        self, folder: str, uidvalidity: int, modseq: int, *, readonly: bool = False
    ) -> tuple[FolderStatus, Changes]:
        """Select ``folder`` with QRESYNC (RFC 7162 §3.2.5): status, changes and vanished.

        One round trip tells what changed since ``modseq``: the flags of changed
        messages (new ones included: they carry a newer mod-sequence, §3.1.1) and the
        UIDs expunged since (``VANISHED (EARLIER)``). ``readonly`` sends EXAMINE.

        If the returned ``uidvalidity`` differs from the given one, the server ignored
        the parameters and every stored UID of the folder is void. Needs :attr:`qresync`.
        """
        if not self.qresync:
            raise ServerError(f"{self._host} does not support QRESYNC")
        imap = self._live._imap
        name = self._live._normalise_folder(folder)
        params = b"(QRESYNC (%d %d))" % (uidvalidity, modseq)
        verb = b"EXAMINE" if readonly else b"SELECT"
        with self._guard(f"open {folder}"):
            # imapclient's select_folder cannot send the parameter: imaplib's state is
            # kept in step by hand (it would refuse UID commands in state AUTH).
            imap.untagged_responses = {}
            typ, data = self._live._raw_command(verb, [name, params], uid=False)
            self._live._checkok(verb.decode().lower(), typ, data)
            imap.state = "SELECTED"
            imap.is_readonly = readonly
            untagged = dict(imap.untagged_responses)
            vanished_lines = untagged.pop("VANISHED", [])
            fetch_lines = untagged.pop("FETCH", [])
            status = _status(self._live._process_select_response(untagged))
            parsed = parse_fetch_response(fetch_lines, False, True) if fetch_lines else {}
        self._selected = folder
        imap.untagged_responses = {}
        return status, Changes(
            flags=_flags_by_uid(parsed),
            vanished=frozenset(_vanished(vanished_lines)),
            vanished_known=True,
        )

    def find_message_id(self, message_id: str) -> list[int]:
        """UIDs in the selected folder whose Message-ID is ``message_id``."""
        with self._guard("search the folder"):
            return sorted(
                int(uid) for uid in self._live.search(["HEADER", "Message-ID", message_id])
            )

    def all_uids(self) -> list[int]:
        """Every UID in the selected folder, ascending."""
        with self._guard("list the messages"):
            return sorted(int(uid) for uid in self._live.search(["ALL"]))

    def summaries(self, uids: Sequence[int], *, batch: int = 500) -> list[Summary]:
        """Flags, dates, size, a few header fields and the S/MIME kind of each message.

        UIDs that no longer exist are left out; the result follows ``uids`` order.
        """
        wanted = list(dict.fromkeys(int(uid) for uid in uids))
        results = {
            summary.uid: summary
            for chunk in self.iter_summaries(wanted, batch=batch)
            for summary in chunk
        }
        return [results[uid] for uid in wanted if uid in results]

    def iter_summaries(
        self, uids: Iterable[int], *, batch: int = 1000
    ) -> Generator[list[Summary], None, None]:
        """:meth:`summaries` as they arrive, ``batch`` at a time, in the server's order.

        Few round trips: the UIDs go out as compact sets ("1:5000"), each command's
        answers are read as a stream, so the caller can store one batch while the
        server sends the next. A generator left before its end leaves the connection
        mid-answer: the session is then closed.
        """
        wanted = {int(uid) for uid in uids}
        pending: list[Summary] = []
        for uid_set in _fetch.uid_sets(wanted):
            for data in self._stream_fetch(uid_set, _SUMMARY_REQUEST, "read the message list"):
                uid = data.get(b"UID")
                # Unsolicited FETCH responses (another client's flag change) carry no
                # header section; the next sync picks their change up.
                if uid in wanted and _has_header(data):
                    pending.append(_summary(uid, data))
                    if len(pending) >= batch:
                        yield pending
                        pending = []
        if pending:
            yield pending

    def all_flags(self) -> dict[int, frozenset[str]]:
        """The flags of every message in the selected folder, by UID (one FETCH 1:*).

        Without CONDSTORE this is how flag changes made elsewhere are learnt; its keys
        are also the folder's UIDs.
        """
        flags: dict[int, frozenset[str]] = {}
        for data in self._stream_fetch(b"1:*", b"UID FLAGS", "read the flags"):
            uid = data.get(b"UID")
            if isinstance(uid, int) and b"FLAGS" in data:
                flags[uid] = _flags(data[b"FLAGS"])
        return flags

    def _stream_fetch(self, uid_set: bytes, items: bytes, doing: str) -> Iterator[dict[bytes, Any]]:
        """Send ``UID FETCH uid_set (items)`` and yield each FETCH response as it comes."""
        others: list[bytes] = []
        yield from self._stream_command(b"UID FETCH %s (%s)" % (uid_set, items), doing, others)

    def _stream_command(
        self, command: bytes, doing: str, others: list[bytes]
    ) -> Iterator[dict[bytes, Any]]:
        """Run one command whose answer is FETCH responses, read by our own reader.

        imaplib's bookkeeping stays in step: the tag comes from it and is retired when
        the command completes. Untagged responses other than FETCH go to ``others``.
        """
        imap = self._live._imap
        completed = False
        try:
            with self._guard(doing):
                tag = imap._new_tag()
                try:
                    imap.send(tag + b" " + command + b"\r\n")
                    yield from _fetch.read_responses(imap, tag, others=others)
                    completed = True
                except _fetch.FetchFailed as exc:
                    completed = True  # the command is over; the session goes on
                    reason = " ".join(str(exc).split())[:200]
                    raise ServerError(f"{self._host} could not {doing}: {reason}") from exc
                except _fetch.Closed as exc:
                    raise ConnectionLostError(
                        f"lost the connection to {self._host} while trying to {doing}"
                    ) from exc
                finally:
                    imap.tagged_commands.pop(tag, None)
        finally:
            if not completed:
                # Left mid-answer (an error, or the caller stopped reading): the rest of
                # the answer is still on its way, so this connection cannot go on.
                self._abandon()

    def _abandon(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def raw(self, uid: int) -> bytes:
        """The message exactly as stored on the server (``BODY.PEEK[]``: \\Seen is kept)."""
        with self._guard("download the message"):
            response = self._live.fetch([uid], ["BODY.PEEK[]"])
        data = response.get(uid)
        body = None if data is None else data.get(b"BODY[]")
        if body is None:
            raise ServerError(f"message {uid} is no longer in {self._selected}")
        return bytes(body)

    def changes_since(self, modseq: int, *, known_uids: Iterable[int] | None = None) -> Changes:
        """Flags changed in the selected folder since ``modseq``, and vanished UIDs.

        With QRESYNC the server reports expunged UIDs itself (RFC 7162 §3.2.6). Without
        it, pass ``known_uids`` (the UIDs stored locally) and the vanished ones are found
        by comparing them with :meth:`all_uids`.
        """
        if not self.condstore:
            raise ServerError(f"{self._host} does not support CONDSTORE")
        modifier = b"(CHANGEDSINCE %d%s)" % (modseq, b" VANISHED" if self.qresync else b"")
        # "1:*" goes through our own reader: imapclient's fetch parses sets as integers.
        others: list[bytes] = []
        flags: dict[int, frozenset[str]] = {}
        command = b"UID FETCH 1:* (UID FLAGS) " + modifier
        for data in self._stream_command(command, "check for changes", others):
            uid = data.get(b"UID")
            if isinstance(uid, int) and b"FLAGS" in data:
                flags[uid] = _flags(data[b"FLAGS"])
        if self.qresync:
            return Changes(flags, frozenset(_vanished(_vanished_lines(others))), True)
        if known_uids is None:
            return Changes(flags, frozenset(), False)
        gone = set(known_uids) - set(self.all_uids())
        return Changes(flags, frozenset(gone), True)

    # -- changing ------------------------------------------------------------------------

    def set_flags(self, uids: Sequence[int], flags: Iterable[str]) -> None:
        """Replace the flags of ``uids`` with ``flags``."""
        self._store("set_flags", uids, flags)

    def add_flags(self, uids: Sequence[int], flags: Iterable[str]) -> None:
        self._store("add_flags", uids, flags)

    def remove_flags(self, uids: Sequence[int], flags: Iterable[str]) -> None:
        self._store("remove_flags", uids, flags)

    def _store(self, method: str, uids: Sequence[int], flags: Iterable[str]) -> None:
        uid_list = [int(uid) for uid in uids]
        if not uid_list:
            return
        with self._guard("change the flags"):
            getattr(self._live, method)(uid_list, [flag.encode() for flag in flags], silent=True)

    def move(self, uids: Sequence[int], target: str) -> None:
        """Move messages to ``target``: MOVE (RFC 6851), else COPY, \\Deleted, EXPUNGE."""
        uid_list = [int(uid) for uid in uids]
        if not uid_list:
            return
        if "MOVE" in self.capabilities:
            with self._guard(f"move the messages to {target}"):
                self._live.move(uid_list, target)
            return
        with self._guard(f"copy the messages to {target}"):
            self._live.copy(uid_list, target)
        self.delete(uid_list)

    def delete(self, uids: Sequence[int]) -> None:
        """Remove messages for good (\\Deleted then EXPUNGE); moving to Trash is the caller's.

        With UIDPLUS only these UIDs are expunged (RFC 4315 §2.1); without it a plain
        EXPUNGE also removes other messages already marked \\Deleted.
        """
        uid_list = [int(uid) for uid in uids]
        if not uid_list:
            return
        with self._guard("delete the messages"):
            self._live.add_flags(uid_list, [b"\\Deleted"], silent=True)
            if "UIDPLUS" in self.capabilities:
                self._live.uid_expunge(uid_list)
            else:
                self._live.expunge()

    def append(
        self,
        folder: str,
        raw: bytes,
        *,
        flags: Iterable[str] = (),
        internaldate: datetime | None = None,
    ) -> int | None:
        """Store a message in ``folder``; its new UID (APPENDUID, RFC 4315), else None."""
        with self._guard(f"save the message in {folder}"):
            response = self._live.append(
                folder, raw, flags=[flag.encode() for flag in flags], msg_time=internaldate
            )
        match = _APPENDUID.search(_bytes(response))
        return int(match.group(2)) if match else None

    # -- waiting for changes -------------------------------------------------------------

    def noop(self) -> bool:
        """Poll: True if the server reported a change in the selected folder."""
        with self._guard("check for new mail"):
            _text_response, responses = self._live.noop()
        return any(_is_change(response) for response in responses)

    def idle(self, timeout: float) -> bool:
        """Wait in IDLE (RFC 2177) until the selected folder changes or ``timeout`` passes.

        Returns True on a change (new, expunged or re-flagged messages), False on
        timeout. IDLE is always ended with DONE before returning. Callers re-enter it
        in a loop; keep ``timeout`` under 29 minutes (RFC 2177 §3). Without IDLE this
        polls with NOOP every few seconds.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        if not self.idle_supported:
            while True:
                if self.noop():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(remaining, 5.0))
        changed = False
        with self._guard("wait for new mail"):
            self._live.idle()
            try:
                while not changed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    responses = self._live.idle_check(timeout=remaining)
                    changed = any(_is_change(response) for response in responses)
            finally:
                _text_response, responses = self._live.idle_done()
            return changed or any(_is_change(response) for response in responses)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def _live(self) -> Any:
        if self._client is None:
            raise ConnectionLostError(f"the connection to {self._host} is closed")
        return self._client

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Translate library errors raised while ``doing`` into transport errors."""
        try:
            yield
        except TransportError:
            raise
        except IMAPClientAbortError as exc:
            raise ConnectionLostError(
                f"lost the connection to {self._host} while trying to {doing}"
            ) from exc
        except IMAPClientError as exc:
            raise ServerError(f"{self._host} could not {doing}: {_server_text(exc)}") from exc
        except (OSError, EOFError) as exc:
            raise ConnectionLostError(
                f"lost the connection to {self._host} while trying to {doing}: {describe(exc)}"
            ) from exc


_SPECIAL_NAME = {flag: b"\\" + flag[1:].capitalize() for flag in _SPECIAL_USE}


def _status(response: dict[bytes, Any]) -> FolderStatus:
    modseq = response.get(b"HIGHESTMODSEQ")
    return FolderStatus(
        uidvalidity=int(response.get(b"UIDVALIDITY", 0)),
        uidnext=int(response.get(b"UIDNEXT", 0)),
        highestmodseq=None if modseq is None else int(modseq),
        exists=int(response.get(b"EXISTS", 0)),
    )


def _has_header(data: dict[bytes, Any]) -> bool:
    return _HEADER_KEY in data or any(
        isinstance(key, bytes) and key.startswith(b"BODY[HEADER.FIELDS") for key in data
    )


def _summary(uid: int, data: dict[bytes, Any]) -> Summary:
    header = data.get(_HEADER_KEY)
    if header is None:  # a server that names the section in its own way
        header = next(
            (v for k, v in data.items() if isinstance(k, bytes) and k.startswith(b"BODY[HEADER")),
            None,
        )
    # Our own small field reader: the email package's parser and header registry cost
    # up to 0.8 ms a message, several times the IMAP FETCH of it.
    fields = _header_fields(bytes(header or b""))
    internaldate = data.get(b"INTERNALDATE")
    return Summary(
        uid=uid,
        flags=_flags(data.get(b"FLAGS", ())),
        internaldate=internaldate if isinstance(internaldate, datetime) else None,
        size=int(data.get(b"RFC822.SIZE") or 0),
        sender=_decoded(fields.get("from", "")),
        subject=_decoded(fields.get("subject", "")),
        date=_date(fields.get("date", "")),
        message_id=fields.get("message-id", ""),
        security=_security_of(fields.get("content-type", "")),
    )


def _decoded(raw: str) -> str:
    """RFC 2047 encoded words decoded; a malformed one falls back to the raw text."""
    if "=?" not in raw:
        return raw
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except (ValueError, TypeError, IndexError, LookupError, UnicodeError):
        return raw


def _date(text: str) -> datetime | None:
    """The Date field as an aware datetime; a zone of "-0000" (unknown) is read as UTC."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _flags_by_uid(parsed: Any) -> dict[int, frozenset[str]]:
    return {int(uid): _flags(data[b"FLAGS"]) for uid, data in parsed.items() if b"FLAGS" in data}


def _flags(flags: Iterable[Any]) -> frozenset[str]:
    # \Recent is a per-session flag nobody can set (and gone in IMAP4rev2, RFC 9051).
    return frozenset(text for text in map(_text, flags) if text.upper() != "\\RECENT")


def _vanished_lines(untagged: Iterable[bytes]) -> list[bytes]:
    """The data of ``* VANISHED ...`` lines among other untagged responses."""
    found = []
    for line in untagged:
        if line[:11].upper() == b"* VANISHED ":
            found.append(line[11:].rstrip(b"\r\n"))
    return found


def _vanished(lines: Iterable[Any]) -> set[int]:
    """UIDs from VANISHED responses ("(EARLIER) 3:5,9" or "3:5,9"), RFC 7162 §3.2.10."""
    uids: set[int] = set()
    for line in lines:
        text = _bytes(line).strip()
        if text.upper().startswith(b"(EARLIER)"):
            text = text[len(b"(EARLIER)") :].strip()
        for part in text.split(b","):
            if not part:
                continue
            low, _, high = part.partition(b":")
            first, last = int(low), int(high or low)
            uids.update(range(min(first, last), max(first, last) + 1))
    return uids


def _is_change(response: Any) -> bool:
    if not isinstance(response, tuple):
        return False
    return any(
        isinstance(item, bytes) and item.upper() in _CHANGE_RESPONSES for item in response[:2]
    )


def _server_text(exc: BaseException) -> str:
    """The server's reason, on one line (imapclient prefixes "<command> failed: ")."""
    text = " ".join(str(exc).split())
    _, _, reason = text.partition(" failed: ")
    return (reason or text)[:200] or "no reason given"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "replace")
