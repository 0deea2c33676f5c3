"""Local Maildir folders with stable UIDs, so local and IMAP accounts look alike.

Maildir has no UIDs of its own; like Dovecot's ``dovecot-uidlist`` we keep a small map
``.inbox-uids.json`` (0600, atomic) per folder from a message's unique name to its UID.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from inbox_app.fileio import atomic_write, read_file
from inbox_app.mail.errors import AccountError
from inbox_app.paths import ensure_private_dir

_UIDS = ".inbox-uids.json"
# Maildir info flags (the "2," section) and their IMAP names.
_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


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
        for sub in ("new", "cur"):
            directory = self.root / sub
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if path.name.startswith("."):
                    continue
                unique, _, info = path.name.partition(":2,")
                seen.add(unique)
                if unique not in files:
                    files[unique] = state.next
                    state.next += 1
                flags = tuple(sorted(_FLAGS[c] for c in info if c in _FLAGS))
                found.append(MaildirMessage(files[unique], path, flags, path.stat().st_mtime))
        state.files = {name: uid for name, uid in files.items() if name in seen}
        self._save(state)
        return state.uidvalidity, sorted(found, key=lambda message: message.uid)

    def deliver(self, raw: bytes) -> Path:
        """Deliver a message: write it to tmp/, then rename it into new/ (Maildir's rule)."""
        unique = f"{time.time_ns()}.{os.getpid()}_{secrets.token_hex(4)}.{socket.gethostname()}"
        tmp = ensure_private_dir(self.root / "tmp") / unique
        atomic_write(tmp, raw)
        target = ensure_private_dir(self.root / "new") / unique
        os.replace(tmp, target)
        return target

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
