"""Local Maildir folders with stable UIDs, so local and IMAP accounts look alike.

Maildir has no UIDs of its own; like Dovecot's ``dovecot-uidlist`` we keep a small map
``.inbox-uids.json`` (0600, atomic) per folder from a message's unique name to its UID.

Flags live in the file name, as the Maildir specification says
(https://cr.yp.to/proto/maildir.html): ``<unique>:2,<letters>`` in ``cur/``, the
letters in ASCII order, D (draft), F (flagged), P (passed: forwarded), R (replied), S
(seen), T (trashed). A message in ``new/`` has no info yet; changing its flags moves it
to ``cur/``. Letters this module does not know (other programs' keywords) are kept.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from inbox_app.fileio import StorageError, atomic_write, read_file
from inbox_app.mail.errors import AccountError
from inbox_app.paths import ensure_private_dir

_UIDS = ".inbox-uids.json"
_INFO = ":2,"
# Maildir info flags (the "2," section) and their IMAP names; P is the $Forwarded keyword
# (RFC 5788 registry), the other four are IMAP system flags.
_FLAGS = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "P": "$Forwarded",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}
# IMAP flag names are case-insensitive (RFC 3501 §2.3.2).
_LETTERS = {flag.lower(): letter for letter, flag in _FLAGS.items()}


@dataclass
class _UidList:
    uidvalidity: int
    next: int
    files: dict[str, int]


@dataclass(frozen=True)
class MaildirMessage:
    uid: int
    path: Path
    flags: tuple[str, ...]
    internaldate: float


class MaildirFolder:
    """One Maildir folder (cur/, new/, tmp/)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def messages(self) -> tuple[int, list[MaildirMessage]]:
        """(uidvalidity, every message with its UID), assigning UIDs to new arrivals."""
        state = self._load()
        files = state.files
        found: list[MaildirMessage] = []
        seen: set[str] = set()
        for unique, path in self._files():
            seen.add(unique)
            if unique not in files:
                files[unique] = state.next
                state.next += 1
            found.append(
                MaildirMessage(files[unique], path, flags_of(path.name), path.stat().st_mtime)
            )
        state.files = {name: uid for name, uid in files.items() if name in seen}
        self._save(state)
        return state.uidvalidity, sorted(found, key=lambda message: message.uid)

    def deliver(self, raw: bytes) -> Path:
        """Deliver a message: write it to tmp/, then rename it into new/ (Maildir's rule)."""
        unique = _unique()
        tmp = ensure_private_dir(self.root / "tmp") / unique
        atomic_write(tmp, raw)
        target = ensure_private_dir(self.root / "new") / unique
        os.replace(tmp, target)
        return target

    def change_flags(
        self, uids: Iterable[int], *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> dict[int, tuple[str, ...]]:
        """Add and remove flags of messages by renaming their files; returns their flags now.

        UIDs that are not (or no longer) in the folder are left out of the result.

        Raises:
            AccountError: a flag that a Maildir file name cannot hold (only the six
                above).
            StorageError: a file cannot be renamed.
        """
        adding, removing = _letters(add), _letters(remove)
        located = self._locate(uids)
        result: dict[int, tuple[str, ...]] = {}
        for uid, path in located.items():
            unique, _, info = path.name.partition(_INFO)
            letters = (set(info) | adding) - removing
            target = self.root / "cur" / f"{unique}{_INFO}{''.join(sorted(letters))}"
            if target != path:
                _rename(path, target)
            result[uid] = flags_of(target.name)
        return result

    def move(self, uids: Iterable[int], target: MaildirFolder) -> dict[int, int]:
        """Move messages to another folder, flags kept; returns each moved UID's new UID.

        The file is renamed (never copied), so a crash leaves each message in exactly one
        folder; a UID list not yet saved is rebuilt by the next :meth:`messages`.
        """
        if target.root.resolve() == self.root.resolve():
            return {}
        located = self._locate(uids)
        if not located:
            return {}
        ensure_private_dir(target.root / "cur")
        ensure_private_dir(target.root / "new")
        destination = target._load()
        moved: dict[int, int] = {}
        for uid, path in located.items():
            unique, info, flags = path.name.partition(_INFO)
            if (target.root / "new" / unique).exists() or any(
                (target.root / "cur").glob(f"{glob.escape(unique)}{_INFO}*")
            ):
                unique = _unique()  # never replace another message's file
            _rename(path, target.root / path.parent.name / f"{unique}{info}{flags}")
            # A fresh UID even if the name was here before: UIDs never go back (RFC 3501
            # §2.3.1.1), and the store may still hold the old one for another message.
            destination.files[unique] = destination.next
            moved[uid] = destination.next
            destination.next += 1
        target._save(destination)
        self._forget(moved)
        return moved

    def remove(self, uids: Iterable[int]) -> list[int]:
        """Delete messages for good; returns the UIDs whose files were removed."""
        located = self._locate(uids)
        for path in located.values():
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise AccountError(f"cannot delete {path}: {exc.strerror or exc}") from exc
        self._forget(located)
        return sorted(located)

    def _files(self) -> Iterable[tuple[str, Path]]:
        """(unique name, path) of every message file in new/ and cur/."""
        for sub in ("new", "cur"):
            directory = self.root / sub
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if not path.name.startswith("."):
                    yield path.name.partition(_INFO)[0], path

    def _locate(self, uids: Iterable[int]) -> dict[int, Path]:
        """The current file of each UID that is still in the folder."""
        wanted = set(uids)
        by_name = {name: uid for name, uid in self._load().files.items() if uid in wanted}
        return {by_name[unique]: path for unique, path in self._files() if unique in by_name}

    def _forget(self, uids: Iterable[int]) -> None:
        gone = set(uids)
        state = self._load()
        state.files = {name: uid for name, uid in state.files.items() if uid not in gone}
        self._save(state)

    def _load(self) -> _UidList:
        path = self.root / _UIDS
        if not path.exists():
            return _UidList(uidvalidity=int(time.time()), next=1, files={})
        try:
            data = json.loads(read_file(path, what="Maildir UID list"))
            files = {str(k): int(v) for k, v in data["files"].items()}
            return _UidList(int(data["uidvalidity"]), int(data["next"]), files)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AccountError(f"the UID list {path} is damaged") from exc

    def _save(self, state: _UidList) -> None:
        data = {"uidvalidity": state.uidvalidity, "next": state.next, "files": state.files}
        atomic_write(self.root / _UIDS, json.dumps(data).encode())


def _unique() -> str:
    """A new unique file name (the Maildir specification's time, process and host)."""
    return f"{time.time_ns()}.{os.getpid()}_{secrets.token_hex(4)}.{socket.gethostname()}"


def flags_of(name: str) -> tuple[str, ...]:
    """The IMAP flags a Maildir file name carries (letters it does not know are skipped)."""
    _, _, info = name.partition(_INFO)
    return tuple(sorted(_FLAGS[c] for c in set(info) if c in _FLAGS))


def _letters(flags: Iterable[str]) -> set[str]:
    letters = set()
    for flag in flags:
        letter = _LETTERS.get(flag.lower())
        if letter is None:
            raise AccountError(f"a local folder cannot keep the flag {flag!r}")
        letters.add(letter)
    return letters


def _rename(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        raise StorageError(f"cannot rename {source}: {exc.strerror or exc}") from exc
