"""The certificate manager: my identities, contacts' certificates, trust anchors, profiles.

Four tables over the rows of :mod:`inbox_app.services.install`, read in one job on the
services worker. From here the user imports a ``.p12`` (:class:`InstallP12Dialog`, without
the by-mail warning), installs a profile (:class:`InstallProfileDialog`), exports a public
certificate, confirms a contact's changed key and removes a profile. Files chosen or
dropped on the window open the install flow their content asks for (as ``inbox-app
FILE`` does: a ``.p12`` saved as ``.bin`` is still a ``.p12``); they are the user's own
files, so the dialogs open without the by-mail restrictions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QAbstractItemModel, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from inbox_app.errors import one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.install import (
    AnchorRow,
    ContactRow,
    IdentityRow,
    ProfileRow,
    RemoveResult,
    anchor_rows,
    confirm_contact,
    contact_rows,
    identity_rows,
    open_credential_file,
    profile_rows,
    remove_profile,
    save_certificate,
)
from inbox_app.services.open_file import FileKind, OpenedFile
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, as_clock, utc_now
from inbox_app.ui.dialogs.install_p12 import InstallP12Dialog
from inbox_app.ui.dialogs.install_profile import InstallProfileDialog
from inbox_app.ui.dialogs.plain_text import error_label, plain_label
from inbox_app.ui.models.certificates import (
    AnchorTableModel,
    ContactTableModel,
    IdentityTableModel,
    ProfileTableModel,
    RowTableModel,
    short_fingerprint,
)

R = TypeVar("R")


@dataclass(frozen=True)
class ManagerRows:
    """Everything the manager shows, read in one job."""

    identities: list[IdentityRow]
    contacts: list[ContactRow]
    anchors: list[AnchorRow]
    profiles: list[ProfileRow]


def read_manager_rows(services: InboxServices, *, now: datetime) -> ManagerRows:
    """The four lists (runs on the services worker)."""
    return ManagerRows(
        identities=identity_rows(services, now=now),
        contacts=contact_rows(services, now=now),
        anchors=anchor_rows(services, now=now),
        profiles=profile_rows(services),
    )


def _table(model: QAbstractItemModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _selected_row(view: QTableView, model: RowTableModel[R]) -> R | None:
    rows = view.selectionModel().selectedRows()
    return model.row_at(rows[0].row()) if rows else None


def _confirmed(box: QMessageBox, action: Callable[[], None]) -> None:
    """Run ``action`` when the user answers Yes (QMessageBox's buttons do not all accept)."""

    def clicked(button: QAbstractButton) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            action()

    box.buttonClicked.connect(clicked)


class CertificateManager(QDialog):
    """Identities, contacts, anchors and profiles, with import, install and export.

    Args:
        bridge: runs every read and change on the services worker.
        now: the clock (or a fixed time) for validity and expiry warnings.

    Signals:
        refreshed(): the tables were read again.
        install_dialog_opened(object): an install dialog was opened (a dropped or chosen file).
        changed(): something was installed, confirmed or removed.
    """

    refreshed = Signal()
    install_dialog_opened = Signal(object)
    changed = Signal()

    def __init__(
        self,
        bridge: Bridge,
        parent: QWidget | None = None,
        *,
        now: Clock | datetime = utc_now,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._clock = as_clock(now)
        self.setWindowTitle("Certificates")
        self.setAccessibleName("Certificates")
        self.setAcceptDrops(True)
        self.resize(900, 520)

        self.identities = IdentityTableModel(self)
        self.contacts = ContactTableModel(self)
        self.anchors = AnchorTableModel(self)
        self.profiles = ProfileTableModel(self)
        self.identity_view = _table(self.identities, "My identities")
        self.contact_view = _table(self.contacts, "Contacts' certificates")
        self.anchor_view = _table(self.anchors, "Trust anchors")
        self.profile_view = _table(self.profiles, "Installed profiles")

        self.tabs = QTabWidget()
        self.tabs.addTab(self.identity_view, "My &identities")
        self.tabs.addTab(
            self._with_buttons(self.contact_view, self._contact_buttons()), "&Contacts"
        )
        self.tabs.addTab(self.anchor_view, "&Trust anchors")
        self.tabs.addTab(
            self._with_buttons(self.profile_view, self._profile_buttons()), "&Profiles"
        )

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        self.status_label = plain_label(accessible_name="Status")
        layout.addWidget(self.status_label)
        self.error_label = error_label()
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import .p&12…")
        self.import_button.setAccessibleName("Import a .p12 or .pfx file")
        self.install_profile_button = QPushButton("Install p&rofile…")
        self.install_profile_button.setAccessibleName("Install a configuration profile")
        self.export_button = QPushButton("&Export certificate…")
        self.export_button.setAccessibleName("Export the selected public certificate")
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        for button in (self.import_button, self.install_profile_button, self.export_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.import_button.clicked.connect(lambda: self.choose_file("p12"))
        self.install_profile_button.clicked.connect(lambda: self.choose_file("profile"))
        self.export_button.clicked.connect(lambda _checked=False: self.export_selected())
        self.close_button.clicked.connect(self.accept)
        for view in (self.identity_view, self.contact_view, self.profile_view):
            view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.tabs.currentChanged.connect(lambda _index: self._update_buttons())
        self._update_buttons()
        self.refresh()

    def _contact_buttons(self) -> list[QPushButton]:
        self.confirm_button = QPushButton("&Accept changed key…")
        self.confirm_button.setAccessibleName("Accept the contact's changed key")
        self.keep_button = QPushButton("&Keep current key")
        self.keep_button.setAccessibleName("Keep the contact's current key")
        self.confirm_button.clicked.connect(lambda: self.confirm_selected_contact(accept=True))
        self.keep_button.clicked.connect(lambda: self.confirm_selected_contact(accept=False))
        return [self.confirm_button, self.keep_button]

    def _profile_buttons(self) -> list[QPushButton]:
        self.remove_profile_button = QPushButton("Re&move profile…")
        self.remove_profile_button.setAccessibleName("Remove the selected profile")
        self.remove_profile_button.clicked.connect(self.remove_selected_profile)
        return [self.remove_profile_button]

    @staticmethod
    def _with_buttons(view: QTableView, buttons: list[QPushButton]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view, 1)
        row = QHBoxLayout()
        for button in buttons:
            button.setAutoDefault(False)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    # ------------------------------------------------------------------ reading

    @Slot()
    def refresh(self) -> None:
        """Read the four lists again."""
        now = self._clock()

        def job(services: InboxServices) -> ManagerRows:
            return read_manager_rows(services, now=now)

        self._bridge.run(job, self._show_rows, self._show_error)

    def _show_rows(self, rows: ManagerRows) -> None:
        if not isValid(self):
            return
        self.identities.set_rows(rows.identities)
        self.contacts.set_rows(rows.contacts)
        self.anchors.set_rows(rows.anchors)
        self.profiles.set_rows(rows.profiles)
        for view in (self.identity_view, self.contact_view, self.anchor_view, self.profile_view):
            view.resizeColumnsToContents()
        warnings = sum(1 for row in rows.identities if row.warning)
        self.status_label.setText(
            f"{len(rows.identities)} identities, {len(rows.contacts)} contacts, "
            f"{len(rows.anchors)} trust anchors, {len(rows.profiles)} profiles"
            + (f"; {warnings} need attention" if warnings else "")
        )
        self._update_buttons()
        self.refreshed.emit()

    def _show_error(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self.error_label.setText(one_line(str(error)))
        self.error_label.show()

    def selected_identity(self) -> IdentityRow | None:
        return _selected_row(self.identity_view, self.identities)

    def selected_contact(self) -> ContactRow | None:
        return _selected_row(self.contact_view, self.contacts)

    def selected_profile(self) -> ProfileRow | None:
        return _selected_row(self.profile_view, self.profiles)

    def _update_buttons(self) -> None:
        self.export_button.setEnabled(self.selected_identity() is not None)
        contact = self.selected_contact()
        pending = contact is not None and contact.pending_sha256 is not None
        self.confirm_button.setEnabled(pending)
        self.keep_button.setEnabled(pending)
        self.remove_profile_button.setEnabled(self.selected_profile() is not None)

    def _done(self, message: str) -> None:
        if not isValid(self):
            return
        self.error_label.hide()
        self.status_label.setText(one_line(message))
        self.changed.emit()
        self.refresh()

    # ------------------------------------------------------------------ installing

    def choose_file(self, kind: str) -> None:
        """Ask for a ``.p12``/``.pfx`` or a profile, then open its install dialog.

        ``kind`` only picks the file filter: the file's content decides the flow.
        """
        if kind == "p12":
            title, pattern = "Import a certificate", "PKCS #12 (*.p12 *.pfx);;All files (*)"
        else:
            title, pattern = (
                "Install a profile",
                "Profiles (*.mobileconfig *.json);;All files (*)",
            )
        path, _ = QFileDialog.getOpenFileName(self, title, "", pattern)
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> None:
        """Read ``path`` on the worker and open the install dialog its content asks for."""

        def job(services: InboxServices) -> OpenedFile:
            return open_credential_file(services, path)

        self._bridge.run(job, self._open_install, self._show_error)

    def _open_install(self, opened: OpenedFile) -> None:
        if not isValid(self):
            return
        dialog: QDialog
        filename = opened.name
        if opened.kind is FileKind.P12:
            p12 = InstallP12Dialog(
                self._bridge, opened.data, filename, self, from_mail=False, now=self._clock
            )
            p12.installed.connect(lambda _entries: self._done(f"installed {filename}"))
            dialog = p12
        else:
            profile = InstallProfileDialog(
                self._bridge, opened.data, filename, self, from_mail=False, now=self._clock
            )
            profile.installed.connect(lambda result: self._done(result.summary()))
            dialog = profile
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.install_dialog_opened.emit(dialog)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_paths(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in paths:
            self.open_file(path)

    @staticmethod
    def _dropped_paths(urls: list[QUrl]) -> list[Path]:
        # Every local file: what it holds is read on the worker (never here, on the GUI
        # thread), and one that is no certificate or profile gets a one-line error.
        return [Path(url.toLocalFile()) for url in urls if url.isLocalFile() and url.toLocalFile()]

    # ------------------------------------------------------------------ acting

    def export_selected(self, path: Path | None = None) -> None:
        """Save the selected identity's public certificate (PEM; DER for .der/.cer)."""
        row = self.selected_identity()
        if row is None:
            return
        if path is None:
            name = (row.addresses[0] if row.addresses else row.sha256[:16]).replace("@", "_at_")
            chosen, _ = QFileDialog.getSaveFileName(
                self,
                "Export certificate",
                f"{name}.pem",
                "PEM certificate (*.pem);;DER certificate (*.cer *.der)",
            )
            if not chosen:
                return
            path = Path(chosen)
        sha256, target = row.sha256, path

        def job(services: InboxServices) -> Path:
            return save_certificate(services, sha256, target)

        self._bridge.run(job, lambda saved: self._done(f"exported to {saved}"), self._show_error)

    def confirm_selected_contact(self, *, accept: bool, ask: bool = True) -> QMessageBox | None:
        """Accept the selected contact's changed key (after asking), or keep the current one."""
        row = self.selected_contact()
        if row is None or row.pending_sha256 is None:
            return None
        sha256 = row.pending_sha256 if accept else row.sha256
        if not accept or not ask:
            self._confirm(row.address, sha256)
            return None
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Accept changed key",
            f"A different key was seen for {one_line(row.address)}.\n\n"
            f"Current: {short_fingerprint(row.sha256)}\n"
            f"New: {short_fingerprint(row.pending_sha256)} "
            f"({one_line(row.pending_subject or '')})\n\n"
            "Accept it only if they told you their key changed (compare the fingerprint "
            "with them). Someone who can send you mail could otherwise read what you "
            "encrypt to this address.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        address = row.address
        _confirmed(box, lambda: self._confirm(address, sha256))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _confirm(self, address: str, sha256: str) -> None:
        now = self._clock()

        def job(services: InboxServices) -> ContactRow:
            return confirm_contact(services, address, sha256, now=now)

        self._bridge.run(
            job,
            lambda row: self._done(f"{row.address}: using {short_fingerprint(row.sha256)}"),
            self._show_error,
        )

    def remove_selected_profile(
        self, *, ask: bool = True, purge: bool = False
    ) -> QMessageBox | None:
        """Remove the selected profile (after asking; its decryption keys stay unless purged)."""
        row = self.selected_profile()
        if row is None:
            return None
        identifier = row.identifier
        if not ask:
            self._remove(identifier, purge=purge)
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove profile",
            f"Remove the profile {one_line(row.display_name)} ({one_line(identifier)})?\n\n"
            "Its accounts, trust anchors and identities are removed; its decryption keys "
            "stay, so old mail can still be read.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        purge_box = QCheckBox("Also delete its decryption keys (old mail can no longer be read)")
        box.setCheckBox(purge_box)
        _confirmed(box, lambda: self._remove(identifier, purge=purge_box.isChecked()))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _remove(self, identifier: str, *, purge: bool) -> None:
        def job(services: InboxServices) -> RemoveResult:
            return remove_profile(services, identifier, purge=purge)

        self._bridge.run(job, lambda result: self._done(result.summary()), self._show_error)


__all__ = ["CertificateManager", "ManagerRows", "read_manager_rows"]
