"""``inbox-app --self-test``: can this installation do its job? (The packaged app runs it.)

Three checks, each independent of the others and of any Inbox home:

* **S/MIME round trip**: a throwaway identity (generated in memory, never stored) signs
  and encrypts a message through the engine's recipes, which then decrypts and verifies
  it: the signature must be ``valid`` and the encryption authenticated (AEAD); a copy
  altered after signing must be caught.
* **OS keyring**: a throwaway secret is written, read back and deleted, as the keystore
  does with its key-encryption key.
* **Mail store**: SQLite with FTS5 in a temporary directory: store a message, find it.

The window painted offscreen is the GUI's own check (``inbox_app.ui.app``).

A self-test exists to turn any failure into a reason, so every exception of a check is
caught and becomes one line: an :class:`InboxError` by its user-facing message, anything
else (a broken installation: a missing library, an SQLite without FTS5) by its type too.
"""

from __future__ import annotations

import secrets as random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from inbox_app.credentials.secrets import OsKeyring, SecretStore
from inbox_app.errors import InboxError, one_line
from inbox_app.services.demo_pki import issue_ca, issue_leaf
from inbox_app.smime import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    TrustStore,
    encrypt_message,
    open_message,
    sign_message,
)
from inbox_app.store import MailStore, MessageSummary

CRYPTO = "S/MIME round trip"
KEYRING = "OS keyring"
STORE = "mail store"
_ADDRESS = "self-test@inbox.invalid"  # RFC 2606: a name that can never be delivered to
_MARKER = "Inbox self-test marker"


@dataclass
class SelfTestResult:
    """What the self-test found.

    Attributes:
        ok: every check passed.
        failures: one line per failed check, naming it ("OS keyring: ...").
        checks: the checks that passed, with how long each took (seconds).
    """

    ok: bool = True
    failures: list[str] = field(default_factory=list)
    checks: list[tuple[str, float]] = field(default_factory=list)


class SelfTestFailure(InboxError, RuntimeError):
    """A self-test check found the installation unable to do its job."""


def run_self_test(*, now: datetime, secrets: SecretStore | None = None) -> SelfTestResult:
    """Run every check; never raises for a failed check.

    Args:
        now: the time at which the throwaway certificates must be valid.
        secrets: the secret store to exercise; the OS keyring when None.
    """
    result = SelfTestResult()
    store = secrets if secrets is not None else OsKeyring()
    checks: list[tuple[str, Callable[[], None]]] = [
        (CRYPTO, lambda: check_crypto(now=now)),
        (KEYRING, lambda: check_secret_store(store)),
        (STORE, check_store),
    ]
    for name, check in checks:
        start = time.perf_counter()
        try:
            check()
        except InboxError as exc:
            result.failures.append(one_line(f"{name}: {exc}"))
        except Exception as exc:  # anything: see the module docstring
            result.failures.append(one_line(f"{name}: {type(exc).__name__}: {exc}"))
        else:
            result.checks.append((name, time.perf_counter() - start))
    result.ok = not result.failures
    return result


def check_crypto(*, now: datetime) -> None:
    """Sign, encrypt, decrypt and verify with a throwaway identity.

    Raises:
        SelfTestFailure: a step gave the wrong answer (the reason says which).
    """
    root = issue_ca("Inbox Self-Test Root", now=now)
    leaf = issue_leaf(root, _ADDRESS, "Inbox self-test", now=now)
    identity = leaf.identity
    trust = TrustStore([root.certificate])
    message = (
        f"From: {_ADDRESS}\r\nTo: {_ADDRESS}\r\nSubject: self-test\r\n"
        f"Content-Type: text/plain; charset=us-ascii\r\n\r\n{_MARKER}\r\n"
    ).encode()

    sealed = encrypt_message(message, [leaf.certificate], now=now, sign_with=identity)
    report = open_message(sealed, trust=trust, now=now, identities=[identity])
    if report.encryption is not EncryptionStatus.AEAD:
        raise SelfTestFailure(
            f"decryption gave {report.encryption.value}, not aead ({_reason(report)})"
        )
    if report.signature is not SignatureStatus.VALID or report.sender_match is not True:
        raise SelfTestFailure(
            f"the signature checked {report.signature.value}, not valid ({_reason(report)})"
        )
    if report.inner is None or _MARKER.encode() not in report.inner:
        raise SelfTestFailure("the decrypted message is not the one that was encrypted")

    signed = sign_message(message, identity, now=now)
    altered = signed.replace(_MARKER.encode(), _MARKER.upper().encode())
    if altered == signed:
        raise SelfTestFailure("the signed message does not hold its text")
    tampered = open_message(altered, trust=trust, now=now)
    if tampered.signature is not SignatureStatus.INVALID:
        raise SelfTestFailure(
            f"a message altered after signing checked {tampered.signature.value}, not invalid"
        )


def check_secret_store(secrets: SecretStore) -> None:
    """Write, read back and delete a throwaway secret.

    Raises:
        KeyringUnavailableError: the keyring refused (locked, missing, not secure).
        SelfTestFailure: it accepted the secret but did not keep or forget it.
    """
    name = f"self-test/{random.token_hex(8)}"
    value = random.token_urlsafe(24)
    secrets.set(name, value)
    try:
        if secrets.get(name) != value:
            raise SelfTestFailure("the OS keyring did not return the secret it was given")
    finally:
        secrets.delete(name)
    if secrets.get(name) is not None:
        raise SelfTestFailure("the OS keyring did not delete a secret")


def check_store() -> None:
    """Create a mail store in a temporary directory, store a message and search for it.

    Raises:
        StoreError: SQLite cannot create or use the store there.
        SelfTestFailure: full-text search did not find the message.
    """
    with tempfile.TemporaryDirectory(prefix="inbox-selftest-") as scratch:
        store = MailStore(Path(scratch))
        try:
            store.save_folder(
                "self-test", "INBOX", role="inbox", uidvalidity=1, uidnext=2, highestmodseq=None
            )
            when = datetime(2026, 1, 1, tzinfo=UTC)
            store.add_summaries(
                [
                    MessageSummary(
                        account="self-test",
                        folder="INBOX",
                        uid=1,
                        uidvalidity=1,
                        flags=(),
                        internaldate=when,
                        size=1,
                        from_addr=_ADDRESS,
                        subject="self-test",
                        date=when,
                        message_id=None,
                        security="none",
                    )
                ]
            )
            store.index_text(
                "self-test", "INBOX", 1, headers=f"{_ADDRESS}\nself-test", body_text=_MARKER
            )
            found = store.search("self-test", "marker")
        finally:
            store.close()
    if [summary.uid for summary in found] != [1]:
        raise SelfTestFailure("full-text search (SQLite FTS5) did not find a stored message")


def _reason(report: Report) -> str:
    """Why a report is not what was expected, in a few words."""
    layers = (layer.reason for layer in report.signed_layers if layer.reason)
    return report.error or next(layers, "no reason given")
