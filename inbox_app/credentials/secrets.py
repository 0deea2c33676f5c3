"""Where the keystore's key-encryption key lives: the OS keyring, or memory in unit tests.

Only one small secret per data directory is kept in the keyring (Windows caps a credential
at 2,560 bytes, so a whole .p12 would not fit); everything else is wrapped with it on disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from inbox_app.credentials.errors import KeyringUnavailableError

SERVICE = "inbox-app"

# Backends that would keep the secret in a plain file or nowhere: never acceptable.
_INSECURE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null",
                      "keyring.backends.chainer")  # fmt: skip


def home_namespace(home: Path) -> str:
    """A stable, short name for a data directory: keyring entries never cross homes."""
    resolved = str(home.expanduser().resolve())
    return hashlib.sha256(resolved.encode()).hexdigest()[:32]


class SecretStore(Protocol):
    """A tiny secret store: named strings."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class MemorySecretStore:
    """Secrets in a dictionary: for unit tests of the layers above."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


class OsKeyring:
    """The OS keyring through the ``keyring`` package: Credential Manager, Keychain, Secret
    Service. Imported lazily: backend discovery costs a tenth of a second."""

    def __init__(self) -> None:
        self._backend: object | None = None

    def _keyring(self) -> object:
        if self._backend is None:
            try:
                import keyring  # noqa: PLC0415
                import keyring.errors  # noqa: PLC0415
            except ImportError as exc:  # pragma: no cover - a broken installation
                raise KeyringUnavailableError("the keyring package is not installed") from exc
            backend = keyring.get_keyring()
            # The default "chainer" tries several backends in turn; a plaintext one among
            # them could receive the secret, so pick the best secure backend ourselves.
            candidates = list(getattr(backend, "backends", None) or [backend])
            secure = [
                candidate
                for candidate in candidates
                if not type(candidate).__module__.startswith(_INSECURE_BACKENDS)
            ]
            if not secure:
                raise KeyringUnavailableError(
                    "no secure OS keyring is available (found "
                    f"{type(backend).__name__}); Inbox never stores keys without one"
                )
            self._backend = secure[0]
        return self._backend

    def get(self, name: str) -> str | None:
        return self._call("get_password", name)

    def set(self, name: str, value: str) -> None:
        self._call("set_password", name, value)

    def delete(self, name: str) -> None:
        try:
            self._call("delete_password", name)
        except KeyringUnavailableError as exc:
            if "not found" not in str(exc).lower():
                raise

    def _call(self, method: str, *args: str) -> str | None:
        backend = self._keyring()
        try:
            result = getattr(backend, method)(SERVICE, *args)
        except Exception as exc:  # keyring raises its own tree and D-Bus errors
            if type(exc).__name__ == "PasswordDeleteError":
                return None
            raise KeyringUnavailableError(
                f"the OS keyring refused the request ({type(exc).__name__}): is it locked?"
            ) from exc
        return result if isinstance(result, str) else None
