"""The install dialogs, the certificate manager and account setup, through the real services.

pytest-qt, offscreen: a Runtime and a Bridge over ``InboxServices`` with a
``MemorySecretStore``; the test reads the same home through its own services object.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLineEdit, QMessageBox

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services import install
from inbox_app.services.app import InboxServices
from inbox_app.services.runtime import Runtime
from inbox_app.smime import open_message, sign_message
from inbox_app.smime.certificates import fingerprint
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.dialogs.account_setup import AccountSetupDialog
from inbox_app.ui.dialogs.certificates import CertificateManager
from inbox_app.ui.dialogs.install_p12 import InstallP12Dialog
from inbox_app.ui.dialogs.install_profile import InstallProfileDialog
from inbox_app.ui.models.certificates import (
    ROW_ROLE,
    WARNING_ROLE,
    AnchorTableModel,
    ContactTableModel,
    IdentityTableModel,
    ProfileTableModel,
)
from tests.pki import NOW, Issued, StandardPKI, make_leaf, message, standard_pki
from tests.profile_factory import (
    ProfilePKI,
    certificate_payload,
    engine_sign,
    mail_payload,
    pkcs12_payload,
    profile,
    profile_pki,
)

PASSWORD = "Right-Password-1"
TIMEOUT = 10_000


@pytest.fixture(scope="module")
def ppki() -> ProfilePKI:
    return profile_pki()


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def services(home: Path, secrets: MemorySecretStore) -> InboxServices:
    """The test's own view of the home the GUI works on."""
    return InboxServices(home, secrets=secrets)


@pytest.fixture
def bridge(home: Path, secrets: MemorySecretStore) -> Iterator[Bridge]:
    runtime = Runtime(lambda: InboxServices(home, secrets=secrets))
    yield Bridge(runtime)
    runtime.close()


def mail_profile(ppki: ProfilePKI, **options: object) -> bytes:
    return profile(
        [
            certificate_payload(ppki.root.cert, "ROOT-1"),
            pkcs12_payload(ppki.alice_sign, "S1"),
            pkcs12_payload(ppki.alice_enc, "E1"),
            mail_payload(signing="S1", encryption="E1"),
        ],
        **options,  # type: ignore[arg-type]
    )


def trust_mdm(services: InboxServices, ppki: ProfilePKI) -> None:
    signers = services.home / "profile-signers"
    signers.mkdir(parents=True, exist_ok=True)
    (signers / "mdm.pem").write_bytes(ppki.mdm_root.pem())


@functools.cache
def expiring_soon() -> Issued:
    return make_leaf(
        standard_pki().intermediate,
        "erin@example.com",
        cn="Erin",
        slot=70,
        key_usage="both",
        not_after=NOW + timedelta(days=10),
    )


def install_p12(services: InboxServices, issued: Issued, use: str = "both") -> None:
    """Install from a file, as the user would (the by-mail rules are tested below)."""
    install.install_p12(
        services,
        issued.p12(PASSWORD.encode()),
        PASSWORD,
        use,
        source="p12:test",
        now=NOW,
        from_mail=False,
    )


def be_alice(services: InboxServices, pki: StandardPKI) -> None:
    """The user is Alice: the test CA is trusted and her account exists."""
    anchors = services.home / "anchors"
    anchors.mkdir(parents=True, exist_ok=True)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    install.add_local_account(services, "Alice", "alice@example.com")


@functools.cache
def self_signed_alice() -> Issued:
    return make_leaf(
        standard_pki().intermediate,
        "alice@example.com",
        cn="Alice",
        slot=72,
        key_usage="both",
        self_signed=True,
    )


FORGED = "Mallory\nAddresses: evil@example.net\u202egpj.exe"


def snapshot(services: InboxServices, secrets: MemorySecretStore) -> dict[str, bytes]:
    home = services.home
    files = {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    files.update({f"keyring:{k}": v.encode() for k, v in secrets.values.items()})
    return files


def idle(dialog: object) -> bool:
    return not dialog.is_busy()  # type: ignore[attr-defined]


def cell(model: object, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return model.data(model.index(row, column), role)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- .p12


def test_install_p12_wrong_password_then_right(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    be_alice(services, pki)
    dialog = InstallP12Dialog(
        bridge, pki.alice.p12(PASSWORD.encode()), "alice.p12", from_mail=True, now=NOW
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.warning_label.isHidden()
    assert "not recommended" in dialog.warning_label.text()
    assert dialog.password_edit.echoMode() == QLineEdit.EchoMode.Password
    assert not dialog.install_button.isEnabled()
    assert not dialog.use_box.isEnabled()

    dialog.password_edit.setText("wrong")
    dialog.inspect_button.click()
    qtbot.waitUntil(lambda: not dialog.error_label.isHidden() and idle(dialog), timeout=TIMEOUT)
    assert "wrong password" in dialog.error_label.text()
    assert dialog.isVisible()  # stays open for another try
    assert not dialog.install_button.isEnabled()
    assert services.keystore.identities() == []

    # Keyboard: type the password and press Enter (the dialog's default button opens it).
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, PASSWORD)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.preview_label.isHidden() and idle(dialog), timeout=TIMEOUT)
    assert dialog.error_label.isHidden()
    assert "CN=Alice" in dialog.preview_label.text()
    assert "alice@example.com" in dialog.preview_label.text()
    assert "RSA 2048" in dialog.preview_label.text()
    assert dialog.trust_label.text().startswith("Trusted: issued by CN=Inbox Test Mail CA")
    assert dialog.replaces_label.isHidden()  # Alice has no key yet: nothing is replaced
    assert dialog.selected_use() == "both"

    dialog.use_buttons["signing"].setChecked(True)
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT) as installed:
        dialog.install_button.click()
    [entry] = installed.args[0]
    assert entry.uses == {"sign"}
    assert "Installed alice@example.com for signing" in dialog.result_label.text()
    assert dialog.password_edit.text() == ""
    [stored] = services.keystore.identities()
    assert (stored.sha256, stored.uses, stored.source) == (
        fingerprint(pki.alice.cert),
        {"sign"},
        "mail:alice.p12",
    )


def test_install_p12_from_a_file_has_no_mail_warning(
    qtbot, bridge: Bridge, services: InboxServices
) -> None:
    data = expiring_soon().p12(PASSWORD.encode())
    dialog = InstallP12Dialog(bridge, data, "erin.pfx", from_mail=False, now=NOW)
    qtbot.addWidget(dialog)
    assert dialog.warning_label.isHidden()
    dialog.password_edit.setText(PASSWORD)
    dialog.inspect()
    qtbot.waitUntil(lambda: not dialog.preview_label.isHidden(), timeout=TIMEOUT)
    assert "Warning: the certificate expires on" in dialog.preview_label.text()
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT):
        dialog.install()
    [stored] = services.keystore.identities()
    assert stored.source == "p12:erin.pfx"


def open_p12(qtbot, dialog: InstallP12Dialog) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password_edit.setText(PASSWORD)
    dialog.inspect()
    qtbot.waitUntil(lambda: not dialog.preview_label.isHidden() and idle(dialog), timeout=TIMEOUT)


def test_a_self_signed_key_by_mail_for_my_address_is_refused(
    qtbot, bridge: Bridge, services: InboxServices, secrets: MemorySecretStore, pki: StandardPKI
) -> None:
    be_alice(services, pki)
    install_p12(services, pki.alice)
    before = snapshot(services, secrets)
    data = self_signed_alice().p12(PASSWORD.encode())
    dialog = InstallP12Dialog(bridge, data, "alice-new.p12", from_mail=True, now=NOW)
    open_p12(qtbot, dialog)

    assert dialog.trust_label.text().startswith("Not trusted: the certificate is self-signed")
    assert dialog.trust_label.textFormat() == Qt.TextFormat.PlainText
    until = f"{pki.alice.cert.not_valid_after_utc:%Y-%m-%d}"
    assert dialog.replaces_label.text().splitlines() == [
        f"This replaces your current signing certificate CN=Alice (alice@example.com), "
        f"valid until {until}",
        f"This replaces your current encryption certificate CN=Alice (alice@example.com), "
        f"valid until {until}",
    ]
    assert not dialog.replaces_label.isHidden()
    assert not dialog.error_label.isHidden()
    assert "trusted certificate authority" in dialog.error_label.text()
    assert "\n" not in dialog.error_label.text()
    assert not dialog.install_button.isEnabled()
    assert not dialog.use_box.isEnabled()
    dialog.install()  # even asked directly, nothing happens
    assert snapshot(services, secrets) == before


def test_the_same_key_from_a_file_installs_after_the_warnings(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    be_alice(services, pki)
    install_p12(services, pki.alice)
    data = self_signed_alice().p12(PASSWORD.encode())
    dialog = InstallP12Dialog(bridge, data, "mine.p12", from_mail=False, now=NOW)
    open_p12(qtbot, dialog)
    assert dialog.trust_label.text().startswith("Not trusted: ")
    assert dialog.error_label.isHidden()
    # The replacement line follows the chosen use.
    dialog.use_buttons["encryption"].setChecked(True)
    assert dialog.replaces_label.text().startswith(
        "This replaces your current encryption certificate CN=Alice"
    )
    assert "signing" not in dialog.replaces_label.text()
    assert dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT):
        dialog.install()
    current = services.keystore.current("alice@example.com", "encrypt")
    assert current is not None
    assert current.sha256 == fingerprint(self_signed_alice().cert)


def test_a_trusted_key_by_mail_for_someone_else_is_refused(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    be_alice(services, pki)
    dialog = InstallP12Dialog(bridge, pki.bob.p12(PASSWORD.encode()), "bob.p12", now=NOW)
    open_p12(qtbot, dialog)
    assert dialog.trust_label.text().startswith("Trusted: ")
    assert "none of your accounts" in dialog.error_label.text()
    assert not dialog.install_button.isEnabled()
    assert services.keystore.identities() == []


def test_p12_names_cannot_forge_preview_lines(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    be_alice(services, pki)
    leaf = make_leaf(pki.intermediate, "alice@example.com", cn=FORGED, slot=73, key_usage="both")
    dialog = InstallP12Dialog(bridge, leaf.p12(PASSWORD.encode()), FORGED, now=NOW)
    open_p12(qtbot, dialog)
    lines = dialog.preview_label.text().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Certificate",
        "Addresses",
        "Issued by",
        "Issuers in the file",
        "Valid",
        "Key",
        "SHA-256",
    ]
    assert lines[1] == "Addresses: alice@example.com"
    for label in (dialog.file_label, dialog.preview_label, dialog.trust_label):
        assert "\u202e" not in label.text()
    assert "\n" not in dialog.file_label.text()


def test_p12_names_are_plain_text(qtbot, bridge: Bridge, pki: StandardPKI) -> None:
    name = '<b>urgent</b><img src="https://evil.example/x.png">.p12'
    dialog = InstallP12Dialog(bridge, pki.alice.p12(PASSWORD.encode()), name, now=NOW)
    qtbot.addWidget(dialog)
    assert dialog.file_label.text() == name
    for label in (dialog.file_label, dialog.preview_label, dialog.error_label):
        assert label.textFormat() == Qt.TextFormat.PlainText


# ---------------------------------------------------------------------------- profiles


def test_install_unsigned_profile_from_a_file_needs_consent(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    dialog = InstallProfileDialog(
        bridge, mail_profile(ppki), "work.mobileconfig", from_mail=False, now=NOW
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert dialog.warning_label.isHidden()
    assert dialog.consent_box.text() == (
        "I trust where this unsigned profile came from: install it and trust this "
        "certificate authority for mail:\n• CN=Inbox Test Root"
    )
    assert dialog.signer_label.text().startswith("Unsigned")
    assert dialog.signer_label.textFormat() == Qt.TextFormat.PlainText
    contents = dialog.contents.toPlainText()
    assert "CN=Alice (signing)" in contents
    assert "CN=Alice (encryption 2026)" in contents
    assert "alice@example.com (IMAP)" in contents
    assert "CN=Inbox Test Root" in contents
    assert not dialog.consent_box.isHidden()
    assert not dialog.install_button.isEnabled()

    dialog.consent_box.setChecked(True)
    assert dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT) as installed:
        dialog.install_button.click()
    result = installed.args[0]
    assert result.changed
    assert "installed profile com.example.mdm.mail" in dialog.result_label.text()
    assert [a.name for a in services.accounts.accounts()] == ["alice-at-example.com"]
    assert len(services.keystore.identities()) == 2
    assert not dialog.install_button.isEnabled()


def test_an_unsigned_profile_by_mail_cannot_be_installed(
    qtbot, bridge: Bridge, services: InboxServices, secrets: MemorySecretStore, ppki: ProfilePKI
) -> None:
    dialog = InstallProfileDialog(bridge, mail_profile(ppki), "work.mobileconfig", now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert not dialog.warning_label.isHidden()  # from mail is the default
    assert dialog.warning_label.text() == install.PROFILE_BY_MAIL_WARNING
    assert dialog.error_label.text() == install.PROFILE_UNSIGNED_BY_MAIL
    assert "install it from a file you trust" in dialog.error_label.text()
    assert dialog.consent_box.isHidden()
    assert dialog.contents.isHidden()
    assert not dialog.install_button.isEnabled()
    dialog.consent_box.setChecked(True)  # even ticked behind the user's back
    dialog.install()
    assert not dialog.install_button.isEnabled()
    assert snapshot(services, secrets) == {}


def test_a_signed_profile_by_mail_installs_with_the_warning(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    trust_mdm(services, ppki)
    data = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    dialog = InstallProfileDialog(bridge, data, "work.mobileconfig", from_mail=True, now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert not dialog.warning_label.isHidden()
    assert dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT):
        dialog.install()
    assert [record.identifier for record in services.profiles.list()] == ["com.example.mdm.mail"]


def test_profile_consent_names_cannot_set_a_shortcut_or_forge_lines(
    qtbot, bridge: Bridge, ppki: ProfilePKI
) -> None:
    from tests.pki import make_ca

    anchor = make_ca(f"&Yes {FORGED}", slot=74).cert
    data = profile([certificate_payload(anchor, "ROOT-1"), pkcs12_payload(ppki.alice_sign, "S1")])
    dialog = InstallProfileDialog(bridge, data, "x.mobileconfig", from_mail=False, now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    text = dialog.consent_box.text()
    assert text.splitlines()[1:] == ["• CN=&&Yes Mallory Addresses: evil@example.net gpj.exe"]
    assert "\u202e" not in text
    contents = dialog.contents.toPlainText()
    assert "\u202e" not in contents
    anchors = [line for line in contents.splitlines() if "Mallory" in line]
    assert anchors == ["  • CN=&Yes Mallory Addresses: evil@example.net gpj.exe"]


def test_install_signed_profile_names_its_signer(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    trust_mdm(services, ppki)
    data = engine_sign(ppki.mdm_signer, mail_profile(ppki))
    dialog = InstallProfileDialog(bridge, data, "work.mobileconfig", now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert dialog.signer_label.text() == "Verified: signed by CN=mdm.example.com"
    assert dialog.consent_box.isHidden()
    assert dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.installed, timeout=TIMEOUT):
        dialog.install()
    [record] = services.profiles.list()
    assert record.signed_by == "CN=mdm.example.com"


def test_profile_from_an_untrusted_signer_cannot_be_installed(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    trust_mdm(services, ppki)
    data = engine_sign(ppki.rogue_signer, mail_profile(ppki))
    dialog = InstallProfileDialog(bridge, data, "work.mobileconfig", now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert dialog.signer_label.text().startswith("Untrusted: ")
    assert dialog.contents.isHidden()
    assert dialog.consent_box.isHidden()
    assert not dialog.install_button.isEnabled()
    assert not dialog.error_label.isHidden()


def test_malformed_profile_shows_a_one_line_error(qtbot, bridge: Bridge) -> None:
    dialog = InstallProfileDialog(
        bridge, b"<plist>nonsense", "x.mobileconfig", from_mail=False, now=NOW
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.error_label.isHidden(), timeout=TIMEOUT)
    assert "\n" not in dialog.error_label.text()
    assert dialog.signer_label.text() == "The profile cannot be installed."
    assert not dialog.install_button.isEnabled()


def test_profile_names_are_plain_text(qtbot, bridge: Bridge, ppki: ProfilePKI) -> None:
    evil = '<a href="https://evil.example">Click</a><img src="x">'
    data = mail_profile(ppki, name=evil)
    dialog = InstallProfileDialog(bridge, data, evil, from_mail=False, now=NOW)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert f"Name: {evil}" in dialog.contents.toPlainText()
    assert evil in dialog.file_label.text()
    assert dialog.file_label.textFormat() == Qt.TextFormat.PlainText


# ---------------------------------------------------------------------------- the manager


def open_manager(qtbot, bridge: Bridge) -> CertificateManager:
    manager = CertificateManager(bridge, now=NOW)
    qtbot.addWidget(manager)
    qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT).wait()
    return manager


def test_manager_lists_current_and_historic_identities(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    install_p12(services, ppki.alice_enc, "encryption")
    install_p12(services, ppki.alice_enc_renewed, "encryption")
    manager = open_manager(qtbot, bridge)
    model = manager.identities
    assert model.rowCount() == 2
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:6] == ["Address", "Use", "State", "Valid from", "Valid to", "Warning"]
    assert [(cell(model, r, 0), cell(model, r, 1), cell(model, r, 2)) for r in range(2)] == [
        ("alice@example.com", "encryption", "current"),
        ("alice@example.com", "decryption only", "historic"),
    ]
    assert cell(model, 0, 4) == f"{ppki.alice_enc_renewed.cert.not_valid_after_utc:%Y-%m-%d}"
    assert manager.tabs.tabText(0) == "My &identities"
    assert manager.identity_view.accessibleName() == "My identities"


def test_expiring_soon_identity_is_flagged(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    install_p12(services, pki.alice)
    install_p12(services, expiring_soon())
    manager = open_manager(qtbot, bridge)
    model = manager.identities
    rows = {cell(model, r, 0): r for r in range(model.rowCount())}
    erin, alice = rows["erin@example.com"], rows["alice@example.com"]
    assert str(cell(model, erin, 5)).startswith("expires on")
    assert cell(model, erin, 0, WARNING_ROLE) == cell(model, erin, 5)
    assert cell(model, erin, 0, Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(model, alice, 5) == ""
    assert cell(model, alice, 0, Qt.ItemDataRole.BackgroundRole) is None
    assert "1 need attention" in manager.status_label.text()


def test_every_model_passes_the_model_tester(
    qtbot, qtmodeltester, bridge: Bridge, services: InboxServices, ppki: ProfilePKI
) -> None:
    pki = standard_pki()
    for model in (
        IdentityTableModel(),
        ContactTableModel(),
        AnchorTableModel(),
        ProfileTableModel(),
    ):
        qtmodeltester.check(model)  # empty

    anchors = services.home / "anchors"
    anchors.mkdir(parents=True)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    install.install_profile(
        services, mail_profile(ppki), now=NOW, allow_unsigned=True, from_mail=False
    )
    install_p12(services, expiring_soon())
    harvest_changed_key(services, pki)
    manager = open_manager(qtbot, bridge)
    models = (manager.identities, manager.contacts, manager.anchors, manager.profiles)
    assert [m.rowCount() for m in models] == [3, 1, 2, 1]
    for model in models:
        qtmodeltester.check(model)
        assert cell(model, 0, 0, ROW_ROLE) is not None


def harvest_changed_key(services: InboxServices, pki: StandardPKI) -> Issued:
    """Alice's certificate from signed mail, then a different key for her."""
    trust = services.secure_mail.trust_store([pki.root.cert])
    again = make_leaf(
        pki.intermediate, "alice@example.com", cn="Alice 2", slot=71, key_usage="both"
    )
    for issued, at in ((pki.alice, timedelta(0)), (again, timedelta(hours=1))):
        raw = sign_message(message(), issued.identity, now=NOW + at)
        services.contacts.harvest(open_message(raw, trust=trust, now=NOW + at), now=NOW + at)
    return again


def test_manager_confirms_a_changed_contact_key(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI
) -> None:
    again = harvest_changed_key(services, pki)
    manager = open_manager(qtbot, bridge)
    manager.tabs.setCurrentIndex(1)
    assert str(cell(manager.contacts, 0, 4)).startswith("pending: ")
    assert not manager.confirm_button.isEnabled()
    manager.contact_view.selectRow(0)
    assert manager.confirm_button.isEnabled()

    box = manager.confirm_selected_contact(accept=True)
    assert box is not None
    assert box.textFormat() == Qt.TextFormat.PlainText
    with qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT):
        box.button(QMessageBox.StandardButton.Yes).click()
    contact = services.contacts.find("alice@example.com")
    assert contact is not None
    assert contact.sha256 == fingerprint(again.cert)
    assert contact.changed is None
    assert cell(manager.contacts, 0, 4) == ""


def test_manager_exports_and_removes(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI, tmp_path: Path
) -> None:
    install.install_profile(
        services, mail_profile(ppki), now=NOW, allow_unsigned=True, from_mail=False
    )
    manager = open_manager(qtbot, bridge)
    assert not manager.export_button.isEnabled()
    manager.identity_view.selectRow(0)
    assert manager.export_button.isEnabled()
    row = manager.selected_identity()
    assert row is not None
    target = tmp_path / "mine.pem"
    with qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT):
        manager.export_selected(target)
    assert target.read_bytes() == services.keystore.export_certificate(row.sha256)

    manager.tabs.setCurrentIndex(3)
    manager.profile_view.selectRow(0)
    assert cell(manager.profiles, 0, 1) == "com.example.mdm.mail"
    box = manager.remove_selected_profile()
    assert box is not None
    with qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert manager.profiles.rowCount() == 0
    assert services.accounts.accounts() == []
    # The decryption key stays, historic.
    assert [(cell(manager.identities, 0, 1), cell(manager.identities, 0, 2))] == [
        ("decryption only", "historic")
    ]


def test_files_dropped_on_the_manager_open_their_install_flow(
    qtbot, bridge: Bridge, services: InboxServices, pki: StandardPKI, tmp_path: Path
) -> None:
    path = tmp_path / "alice.bin"  # a .p12 under another name: its content decides
    path.write_bytes(pki.alice.p12(PASSWORD.encode()))
    ignored = tmp_path / "notes.txt"
    ignored.write_text("hello")
    manager = open_manager(qtbot, bridge)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(ignored)), QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(manager.install_dialog_opened, timeout=TIMEOUT) as opened:
        manager.dropEvent(event)
    dialog = opened.args[0]
    assert isinstance(dialog, InstallP12Dialog)
    assert dialog.warning_label.isHidden()  # from a file, not from mail
    qtbot.waitUntil(lambda: not manager.error_label.isHidden(), timeout=TIMEOUT)
    assert manager.error_label.text().startswith("Inbox cannot open notes.txt")
    dialog.password_edit.setText(PASSWORD)
    dialog.inspect()
    qtbot.waitUntil(dialog.install_button.isEnabled, timeout=TIMEOUT)
    with qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT):
        dialog.install()
    assert manager.identities.rowCount() == 1
    dialog.close()


def test_manager_opens_a_profile_file(
    qtbot, bridge: Bridge, ppki: ProfilePKI, tmp_path: Path
) -> None:
    path = tmp_path / "work.xml"  # a profile under another name
    path.write_bytes(mail_profile(ppki))
    manager = open_manager(qtbot, bridge)
    with qtbot.waitSignal(manager.install_dialog_opened, timeout=TIMEOUT) as opened:
        manager.open_file(path)
    dialog = opened.args[0]
    assert isinstance(dialog, InstallProfileDialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=TIMEOUT)
    assert dialog.warning_label.isHidden()  # the user's own file
    dialog.consent_box.setChecked(True)
    with qtbot.waitSignal(manager.refreshed, timeout=TIMEOUT):
        dialog.install()
    assert manager.profiles.rowCount() == 1
    assert manager.anchors.rowCount() == 1
    dialog.close()


# ---------------------------------------------------------------------------- accounts


def test_account_setup_adds_a_local_account(qtbot, bridge: Bridge, services: InboxServices) -> None:
    dialog = AccountSetupDialog(bridge)
    qtbot.addWidget(dialog)
    dialog.local_radio.setChecked(True)
    assert not dialog.imap_edit.isEnabled()
    assert not dialog.password_edit.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "Local")
    qtbot.keyClicks(dialog.email_edit, "me@localhost")
    with qtbot.waitSignal(dialog.account_added, timeout=TIMEOUT) as added:
        dialog.add_button.click()
    assert added.args == ["Local"]
    [account] = services.accounts.accounts()
    assert (account.name, account.local) == ("Local", True)


def test_account_setup_by_hand_shows_errors_then_adds(
    qtbot, bridge: Bridge, services: InboxServices
) -> None:
    dialog = AccountSetupDialog(bridge)
    qtbot.addWidget(dialog)
    assert dialog.server_radio.isChecked()
    assert dialog.password_edit.echoMode() == QLineEdit.EchoMode.Password
    dialog.name_edit.setText("work")
    dialog.email_edit.setText("alice@example.com")
    dialog.imap_edit.setText("imap.example.com")  # no port
    dialog.smtp_edit.setText("smtp.example.com:587")
    dialog.tls_combo.setCurrentIndex(1)
    dialog.password_edit.setText("secret")
    dialog.add()
    qtbot.waitUntil(lambda: not dialog.error_label.isHidden() and idle(dialog), timeout=TIMEOUT)
    assert "HOST:PORT" in dialog.error_label.text()
    assert services.accounts.accounts() == []

    dialog.imap_edit.setText("imap.example.com:143")
    with qtbot.waitSignal(dialog.account_added, timeout=TIMEOUT):
        dialog.add()
    [account] = services.accounts.accounts()
    assert account.imap is not None
    assert (account.imap.port, account.imap.tls, account.username) == (
        143,
        "starttls",
        "alice@example.com",
    )
    assert services.accounts.password("work") == "secret"


def test_account_setup_from_a_profile(
    qtbot, bridge: Bridge, services: InboxServices, ppki: ProfilePKI, tmp_path: Path
) -> None:
    path = tmp_path / "work.mobileconfig"
    path.write_bytes(mail_profile(ppki))
    dialog = AccountSetupDialog(bridge, now=lambda: NOW)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.profile_dialog_opened, timeout=TIMEOUT) as opened:
        dialog.from_profile(path)
    profile_dialog = opened.args[0]
    qtbot.waitUntil(lambda: profile_dialog.preview is not None, timeout=TIMEOUT)
    profile_dialog.consent_box.setChecked(True)
    with qtbot.waitSignal(dialog.account_added, timeout=TIMEOUT) as added:
        profile_dialog.install()
    assert added.args == ["alice-at-example.com"]
    assert [a.name for a in services.accounts.accounts()] == ["alice-at-example.com"]
    profile_dialog.close()


def test_manager_reports_a_message_file_in_one_line(qtbot, bridge: Bridge, tmp_path: Path) -> None:
    path = tmp_path / "letter.p12"
    path.write_bytes(message())
    manager = open_manager(qtbot, bridge)
    manager.open_file(path)
    qtbot.waitUntil(lambda: not manager.error_label.isHidden(), timeout=TIMEOUT)
    assert manager.error_label.text() == (
        "letter.p12 is a message, not a certificate (.p12, .pfx) or a profile"
    )


def test_account_setup_from_a_certificate_file_is_a_one_line_error(
    qtbot, bridge: Bridge, pki: StandardPKI, tmp_path: Path
) -> None:
    path = tmp_path / "work.mobileconfig"  # named like a profile, holds a key
    path.write_bytes(pki.alice.p12(PASSWORD.encode()))
    dialog = AccountSetupDialog(bridge, now=lambda: NOW)
    qtbot.addWidget(dialog)
    dialog.from_profile(path)
    qtbot.waitUntil(lambda: not dialog.error_label.isHidden(), timeout=TIMEOUT)
    assert "is a certificate, not a profile" in dialog.error_label.text()
    assert "\n" not in dialog.error_label.text()


def test_model_cells_and_tooltips_are_one_line_per_field(qtmodeltester) -> None:
    row = install.ProfileRow(
        identifier="com.example.mail",
        display_name=FORGED,
        signed_by=FORGED,
        identities=1,
        accounts=(FORGED,),
        anchors=0,
        installed_at="2026-06-01T12:00:00+00:00",
    )
    model = ProfileTableModel()
    model.set_rows([row])
    qtmodeltester.check(model)
    for column in range(model.columnCount()):
        text = str(cell(model, 0, column))
        assert "\n" not in text
        assert "\u202e" not in text
    tooltip = str(cell(model, 0, 0, Qt.ItemDataRole.ToolTipRole))
    assert tooltip.count("<br>") == 2  # name, identifier, signer: no forged fourth line
    assert "\u202e" not in tooltip
