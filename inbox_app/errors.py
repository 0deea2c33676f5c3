"""The root of every error Inbox raises on purpose.

Each package defines its own base under :class:`InboxError` that also subclasses the
matching built-in, so generic handlers keep working::

    InboxError
     +-- SmimeError (ValueError)              inbox_app.smime.errors
     |    +-- MalformedError                   the input is not well-formed MIME/CMS
     |    +-- IdentityError                    a PKCS#12 file could not be used
     |    +-- SignatureVerificationError       a signature did not check out (has .status)
     |    +-- DecryptionError                  could not decrypt (deliberately vague)
     |    |    +-- NoMatchingKeyError           no key held for any recipient
     |    +-- UnsupportedError                 an algorithm or structure we do not handle
     +-- CredentialsError (ValueError)         inbox_app.credentials.errors
     |    +-- ProfileError                     a managed profile cannot be installed
     +-- KeyringUnavailableError (OSError)     the OS keyring is locked, missing or insecure
     +-- StorageError (OSError)                inbox_app.fileio
     +-- UsageError (ValueError)               inbox_app.cli (bad command line input)

Errors meant for users carry a one-line, user-facing message as ``str(error)``.
Anything that is not an ``InboxError`` is a bug and keeps its traceback.
"""


class InboxError(Exception):
    """Base class of all errors Inbox raises deliberately; ``str()`` is user-facing."""


def one_line(text: str) -> str:
    """``text`` as a single line of plain text: control characters become spaces.

    Error messages and certificate names can carry attacker-controlled text; a line break
    or terminal escape in one must not let it forge a second line of a report or a log.
    """
    return "".join(ch if ch.isprintable() else " " for ch in text)
