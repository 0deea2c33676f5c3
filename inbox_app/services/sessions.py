"""The services a GUI session runs on: the user's home, or a throwaway demo home.

Front ends do not build secret stores themselves; they ask for a session here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices


def user_session(home: Path) -> InboxServices:
    """The user's own home, with private keys wrapped under the OS keyring."""
    return InboxServices(home)


def scratch_session(home: Path) -> InboxServices:
    """A throwaway home whose key-encryption key lives only in this process's memory.

    For the demo and the self-test: nothing they create is worth keeping, and they must run
    where no OS keyring is set up.
    """
    return InboxServices(home, secrets=MemorySecretStore())


def demo_session(home: Path, *, now: datetime) -> InboxServices:
    """A fresh demo home (generated PKI, a local account full of sample mail) in ``home``."""
    from inbox_app.services.demo import build_demo  # noqa: PLC0415 - only the demo needs it

    services = scratch_session(home)
    build_demo(home, services.secrets, now=now)
    return services
