"""Shared fixtures: the test PKI, the interop corpus, the openssl peer."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.pki import StandardPKI, standard_pki
from tests.servers import Dovecot

# "ci" (the default, used by scripts/test.sh) explores more; "dev" is quick.
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Qt never needs a screen in tests (without one and without this, Qt aborts the process).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
INTEROP = Path(os.environ.get("INBOX_INTEROP_DIR", REPO.parent / "shared" / "interop"))


@pytest.fixture(scope="session")
def pki() -> StandardPKI:
    return standard_pki()


@pytest.fixture(scope="session")
def interop() -> Path:
    if not (INTEROP / "MANIFEST.tsv").is_file():
        pytest.fail(f"the interop corpus is missing at {INTEROP} (set INBOX_INTEROP_DIR)")
    return INTEROP


@pytest.fixture(scope="session")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.fail("openssl is not installed (the test command installs it)")
    return path


@pytest.fixture(scope="session")
def secret_service() -> None:
    """The real Secret Service (gnome-keyring), which scripts/test.sh starts.

    Outside the test command (no private D-Bus session) the keyring tests are skipped,
    unless INBOX_KEYRING_TESTS says they must run: then a missing keyring is a failure.
    """
    if os.environ.get("PYTHON_KEYRING_BACKEND") != "keyring.backends.SecretService.Keyring":
        if os.environ.get("INBOX_KEYRING_TESTS"):
            pytest.fail("INBOX_KEYRING_TESTS is set but the Secret Service backend is not")
        pytest.skip("run through scripts/test.sh for the real Secret Service")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail("no D-Bus session for the Secret Service")


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """One private Dovecot on 127.0.0.1 per test module (and per xdist worker).

    Without Dovecot the server tests are skipped, unless INBOX_SERVER_TESTS is set (the
    test command sets it): then a missing server is a failure.
    """
    if not Dovecot.available():
        if os.environ.get("INBOX_SERVER_TESTS"):
            pytest.fail("INBOX_SERVER_TESTS is set but dovecot is not installed")
        pytest.skip("dovecot is not installed (scripts/test.sh installs dovecot-imapd)")
    server = Dovecot()
    server.start(tmp_path_factory.mktemp("dovecot"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def qapp_cls():  # pytest-qt: the GUI's own application class, as inbox-app runs it
    from inbox_app.ui.file_open import InboxApplication

    return InboxApplication
