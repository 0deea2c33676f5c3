"""The self-test's checks: each passes on a working installation and names what broke."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest

from inbox_app.credentials.errors import KeyringUnavailableError
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services import selftest
from inbox_app.services.selftest import CRYPTO, KEYRING, STORE, run_self_test
from inbox_app.smime import Report, SignatureStatus, encrypt_message
from inbox_app.store import MailStore

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class LockedKeyring:
    """A keyring that refuses everything, as a locked Secret Service does."""

    def get(self, name: str) -> str | None:
        raise KeyringUnavailableError("the OS keyring refused the request (LockedError): locked")

    def set(self, name: str, value: str) -> None:
        raise KeyringUnavailableError("the OS keyring refused the request (LockedError): locked")

    def delete(self, name: str) -> None:
        raise KeyringUnavailableError("the OS keyring refused the request (LockedError): locked")


class ForgetfulKeyring(MemorySecretStore):
    """Accepts secrets and keeps none (a null backend)."""

    def set(self, name: str, value: str) -> None:
        pass


class StickyKeyring(MemorySecretStore):
    """Keeps secrets it was asked to delete."""

    def delete(self, name: str) -> None:
        pass


class BrokenKeyring(MemorySecretStore):
    """A backend with a bug: it raises something that is not an Inbox error."""

    def set(self, name: str, value: str) -> None:
        raise RuntimeError("backend exploded")


def test_every_check_passes_on_a_working_installation() -> None:
    secrets = MemorySecretStore()
    result = run_self_test(now=NOW, secrets=secrets)
    assert result.ok, result.failures
    assert result.failures == []
    assert [name for name, _ in result.checks] == [CRYPTO, KEYRING, STORE]
    assert all(seconds >= 0 for _, seconds in result.checks)
    assert secrets.values == {}  # the throwaway secret is gone


def test_a_locked_keyring_is_one_clear_line() -> None:
    result = run_self_test(now=NOW, secrets=LockedKeyring())
    assert not result.ok
    [failure] = result.failures
    assert failure.startswith("OS keyring: ")
    assert "locked" in failure
    assert "\n" not in failure
    # The other checks still ran and passed.
    assert [name for name, _ in result.checks] == [CRYPTO, STORE]


@pytest.mark.parametrize(
    ("secrets", "reason"),
    [
        (ForgetfulKeyring(), "did not return the secret"),
        (StickyKeyring(), "did not delete"),
        (BrokenKeyring(), "RuntimeError: backend exploded"),
    ],
)
def test_a_keyring_that_misbehaves_fails(secrets: MemorySecretStore, reason: str) -> None:
    result = run_self_test(now=NOW, secrets=secrets)
    assert not result.ok
    [failure] = result.failures
    assert failure.startswith("OS keyring: ")
    assert reason in failure


def test_unauthenticated_encryption_fails_the_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    cbc = functools.partial(encrypt_message, cipher="aes-256-cbc")
    monkeypatch.setattr(selftest, "encrypt_message", cbc)
    result = run_self_test(now=NOW, secrets=MemorySecretStore())
    assert result.failures == [
        "S/MIME round trip: decryption gave unauthenticated, not aead (no reason given)"
    ]


def test_a_signature_that_does_not_verify_fails_the_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = selftest.open_message

    def long_after(raw: bytes, **kwargs: Any) -> Report:
        kwargs["now"] = datetime(2099, 1, 1, tzinfo=UTC)  # the throwaway PKI has expired
        return original(raw, **kwargs)

    monkeypatch.setattr(selftest, "open_message", long_after)
    result = run_self_test(now=NOW, secrets=MemorySecretStore())
    [failure] = result.failures
    assert failure.startswith("S/MIME round trip: the signature checked expired, not valid (")


def test_a_missed_alteration_fails_the_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    original = selftest.open_message

    def blind(raw: bytes, **kwargs: Any) -> Report:
        report = original(raw, **kwargs)
        report.signature = SignatureStatus.VALID  # an engine that cannot see tampering
        return report

    monkeypatch.setattr(selftest, "open_message", blind)
    result = run_self_test(now=NOW, secrets=MemorySecretStore())
    assert result.failures == [
        "S/MIME round trip: a message altered after signing checked valid, not invalid"
    ]


def test_a_store_without_search_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MailStore, "search", lambda *args, **kwargs: [])
    result = run_self_test(now=NOW, secrets=MemorySecretStore())
    assert result.failures == [
        "mail store: full-text search (SQLite FTS5) did not find a stored message"
    ]


def test_the_real_keyring(secret_service: None) -> None:
    result = run_self_test(now=NOW)
    assert result.ok, result.failures
