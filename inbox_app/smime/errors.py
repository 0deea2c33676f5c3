"""Errors of the S/MIME engine (see :mod:`inbox_app.errors` for the whole tree).

Decryption errors (later) are deliberately vague; verification errors say what failed,
because the user needs to know whether a message was altered or merely signed by a stranger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inbox_app.errors import InboxError

if TYPE_CHECKING:
    from inbox_app.smime.report import SignatureStatus, Signer


class SmimeError(InboxError, ValueError):
    """Base class of the engine's errors."""


class MalformedError(SmimeError):
    """The input is not well-formed MIME or CMS, or breaks a structural rule we enforce."""


class UnsupportedError(SmimeError):
    """The input uses an algorithm or a structure that Inbox does not handle."""


class IdentityError(SmimeError):
    """A PKCS#12 identity could not be loaded or used (wrong password, no key, bad cert)."""


class DecryptionError(SmimeError):
    """The message could not be decrypted.

    Deliberately vague (like pyca/cryptography's InvalidTag): padding, tag and key errors
    all read the same, so that no reply or error path becomes an oracle (EFAIL §5).
    """

    def __init__(self, message: str = "the message could not be decrypted") -> None:
        super().__init__(message)


class NoMatchingKeyError(DecryptionError):
    """None of the keys held matches a recipient of the message.

    Attributes:
        recipients: one line describing each recipient the message was encrypted to.
    """

    def __init__(self, recipients: tuple[str, ...]) -> None:
        listed = "; ".join(recipients) or "no recipient Inbox can use"
        super().__init__(f"no key to decrypt this message; it was encrypted to: {listed}")
        self.recipients = recipients


class SignatureVerificationError(SmimeError):
    """A signature did not verify.

    Attributes:
        status: the status to report (``invalid``, ``untrusted``, ``expired``, ``weak``...).
        signer: who signed, when the signer's certificate could be identified.
    """

    def __init__(
        self, status: SignatureStatus, message: str, *, signer: Signer | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.signer = signer
