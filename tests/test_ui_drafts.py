"""The drafts dialog: an account's drafts listed (decrypted subjects), one opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.services.compose import (
    UNREADABLE,
    Composition,
    composition_from_draft,
    save_draft,
)
from inbox_app.services.runtime import Runtime
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.dialogs.drafts import DraftsDialog
from inbox_app.ui.models.certificates import WARNING_ROLE
from inbox_app.ui.models.drafts import CANNOT_BE_READ
from inbox_app.ui.views.composer import ComposerWindow
from tests.pki import NOW, StandardPKI

ALICE = "alice@example.com"
BOB = "bob@example.org"
WAIT = 10_000  # ms


@pytest.fixture
def home(tmp_path: Path, pki: StandardPKI) -> tuple[Path, MemorySecretStore]:
    home = tmp_path / "home"
    secrets = MemorySecretStore()
    services = InboxServices(home, secrets)
    services.keystore.install(
        [NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test")]
    )
    services.accounts.add_local("local", ALICE)
    return home, secrets


@pytest.fixture
def bridge(home: tuple[Path, MemorySecretStore]) -> Iterator[Bridge]:
    runtime = Runtime(lambda: InboxServices(*home))
    try:
        yield Bridge(runtime)
    finally:
        runtime.close()


def services_of(home: tuple[Path, MemorySecretStore]) -> InboxServices:
    return InboxServices(*home)


def open_dialog(qtbot: Any, bridge: Bridge) -> DraftsDialog:
    dialog = DraftsDialog(bridge, "local", now=NOW)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.refreshed, timeout=WAIT):
        dialog.show()
    return dialog


def cells(dialog: DraftsDialog) -> list[list[str]]:
    model = dialog.model
    return [
        [model.index(row, column).data() for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def row_of(dialog: DraftsDialog, draft_id: int | None) -> int:
    rows = dialog.model.rows()
    return next(row for row, info in enumerate(rows) if info.id == draft_id)


def test_drafts_are_listed_with_their_subjects(
    qtbot: Any, qtmodeltester: Any, bridge: Bridge, home: tuple[Path, MemorySecretStore]
) -> None:
    services = services_of(home)
    save_draft(services, Composition("local", to=(BOB,), subject="<b>clear</b>"), now=NOW)
    secret = save_draft(
        services, Composition("local", to=(f"Bob <{BOB}>",), subject="Secret", encrypt=True),
        now=NOW,
    )  # fmt: skip
    store = services.mailbox.store
    raw = next(d.raw for d in store.drafts("local") if d.id == secret.draft_id)
    damaged = store.save_draft("local", raw[: len(raw) // 2])
    dialog = open_dialog(qtbot, bridge)
    qtmodeltester.check(dialog.model)
    rows = {row[0]: row for row in cells(dialog)}
    assert set(rows) == {"<b>clear</b>", "Secret", UNREADABLE}
    assert rows["<b>clear</b>"][1] == BOB
    assert rows["<b>clear</b>"][3] == ""
    assert rows["Secret"][1] == BOB
    assert rows["Secret"][3] == "encrypted"
    assert rows[UNREADABLE][3] == "encrypted"
    assert dialog.status_label.textFormat() == Qt.TextFormat.PlainText
    unreadable = dialog.model.index(row_of(dialog, damaged), 0)
    assert unreadable.data(WARNING_ROLE) == CANNOT_BE_READ
    dialog.view.selectRow(row_of(dialog, damaged))
    assert not dialog.open_button.isEnabled()
    dialog.open_selected()  # nothing to open
    assert dialog.isVisible()
    dialog.view.selectRow(row_of(dialog, secret.draft_id))
    assert dialog.open_button.isEnabled()


def test_no_drafts(qtbot: Any, qtmodeltester: Any, bridge: Bridge) -> None:
    dialog = open_dialog(qtbot, bridge)
    qtmodeltester.check(dialog.model)
    assert dialog.model.rowCount() == 0
    assert dialog.status_label.text() == "No drafts"
    assert not dialog.open_button.isEnabled()


def test_open_emits_the_draft_and_the_composer_goes_on_with_it(
    qtbot: Any, bridge: Bridge, home: tuple[Path, MemorySecretStore]
) -> None:
    services = services_of(home)
    c = Composition("local", to=(BOB,), subject="Plan", body="first lines", encrypt=True)
    saved = save_draft(services, c, now=NOW)
    assert saved.draft_id is not None
    dialog = open_dialog(qtbot, bridge)
    with qtbot.waitSignal(dialog.open_requested, timeout=WAIT) as requested:
        dialog.open_button.click()
    assert requested.args == [saved.draft_id]
    assert not dialog.isVisible()
    # What the main window does with it: read it back in a job, open a composer.
    opened: list[Composition] = []
    bridge.run(
        lambda s: composition_from_draft(s, "local", saved.draft_id or 0, now=NOW), opened.append
    )
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    composer = ComposerWindow(bridge, "local", opened[0], now=lambda: NOW)
    qtbot.addWidget(composer)
    qtbot.waitUntil(composer.sign_box.isEnabled, timeout=WAIT)
    assert composer.subject_edit.text() == "Plan"
    assert composer.to_edit.text() == BOB
    assert composer.body_edit.toPlainText() == "first lines"
    assert composer.encrypt_box.isChecked()
    assert composer.draft_id == saved.draft_id


def test_activating_a_row_opens_it(
    qtbot: Any, bridge: Bridge, home: tuple[Path, MemorySecretStore]
) -> None:
    saved = save_draft(services_of(home), Composition("local", subject="x"), now=NOW)
    dialog = open_dialog(qtbot, bridge)
    with qtbot.waitSignal(dialog.open_requested, timeout=WAIT) as requested:
        dialog.view.activated.emit(dialog.model.index(0, 0, QModelIndex()))
    assert requested.args == [saved.draft_id]
