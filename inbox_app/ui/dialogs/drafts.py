"""The drafts of one account, to pick one to go on writing.

The list is read on the services worker (:func:`~inbox_app.services.compose.drafts`, which
decrypts the subjects of encrypted drafts with the keystore). Opening a draft is the
caller's: the dialog emits :attr:`DraftsDialog.open_requested` with the draft's id, and
the caller reads it back (:func:`~inbox_app.services.compose.composition_from_draft`, in a
job) into a composer.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from inbox_app.errors import one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.compose import DraftInfo, drafts
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, as_clock, utc_now
from inbox_app.ui.dialogs.plain_text import error_label, plain_label
from inbox_app.ui.models.drafts import DraftTableModel


class DraftsDialog(QDialog):
    """An account's drafts, with Open.

    Args:
        bridge: runs the read on the services worker.
        account: the account whose drafts are listed.
        parent: the Qt parent.
        now: the clock (or a fixed time) for opening encrypted drafts.

    Signals:
        open_requested(int): the user chose a draft (its local id); the dialog then closes.
        refreshed(): the list was read again.
    """

    open_requested = Signal(int)
    refreshed = Signal()

    def __init__(
        self,
        bridge: Bridge,
        account: str,
        parent: QWidget | None = None,
        *,
        now: Clock | datetime = utc_now,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._account = account
        self._clock = as_clock(now)
        self.setWindowTitle(f"Drafts — {one_line(account)}")
        self.setAccessibleName("Drafts")
        self.resize(720, 400)

        self.model = DraftTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAccessibleName("Drafts")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.activated.connect(self._activated)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        self.status_label = plain_label(accessible_name="Status")
        self.error_label = error_label()
        self.open_button = QPushButton("&Open")
        self.open_button.setAccessibleName("Open the selected draft")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_selected)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        """Read the drafts again (a job)."""
        account = self._account
        moment = self._clock()
        self.status_label.setText("Reading the drafts…")

        def job(services: InboxServices) -> list[DraftInfo]:
            return drafts(services, account, now=moment)

        self._bridge.run(job, self._loaded, self._failed)

    def selected(self) -> DraftInfo | None:
        """The selected draft, if any."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    @Slot()
    def open_selected(self) -> None:
        """Ask for the selected draft to be opened, and close; nothing for an unreadable one."""
        row = self.selected()
        if row is None or not row.readable:
            return
        self.open_requested.emit(row.id)
        self.accept()

    def _loaded(self, rows: list[DraftInfo]) -> None:
        if not isValid(self):
            return  # closed while the list was being read
        self.error_label.hide()
        self.model.set_rows(rows)
        self.status_label.setText("" if rows else "No drafts")
        if rows:
            self.view.selectRow(0)
            self.view.resizeColumnsToContents()
        self._update_buttons()
        self.refreshed.emit()

    def _failed(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self.status_label.setText("")
        self.error_label.setText(one_line(str(error)))
        self.error_label.show()

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        del index  # the row is the selected one
        self.open_selected()

    @Slot()
    def _update_buttons(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None and row.readable)
