"""The GUI's folder and message models over a real store, through the real worker.

Every model passes pytest-qt's ``qtmodeltester``; the message list loads lazily, a page
at a time, so a large folder costs one page to open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.services.runtime import Runtime
from inbox_app.store import MailStore, MessageSummary
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.models.folders import (
    LOCATION_ROLE,
    AccountRow,
    FolderRow,
    FolderTreeModel,
)
from inbox_app.ui.models.messages import PAGE_SIZE, SUMMARY_ROLE, MessageListModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def summary(uid: int, *, seen: bool = False, security: str = "none") -> MessageSummary:
    return MessageSummary(
        account="Demo",
        folder="INBOX",
        uid=uid,
        uidvalidity=1,
        flags=("\\Seen",) if seen else (),
        internaldate=T0 + timedelta(minutes=uid),
        size=100,
        from_addr=f"sender{uid}@example.com",
        subject=f"Message {uid}\r\nX-Injected: yes",
        date=T0 + timedelta(minutes=uid),
        message_id=f"<{uid}@example.com>",
        security=security,
    )


def fill(home: Path, count: int) -> None:
    with MailStore(home) as store:
        store.save_folder(
            "Demo", "INBOX", role="inbox", uidvalidity=1, uidnext=count + 1, highestmodseq=None
        )
        store.add_summaries(summary(uid, seen=uid % 3 == 0) for uid in range(1, count + 1))


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    services = InboxServices(tmp_path, secrets=MemorySecretStore())
    runtime = Runtime(lambda: services)
    yield Bridge(runtime)
    runtime.close()


def test_message_model_passes_the_model_tester(
    qtbot, qtmodeltester, tmp_path: Path, bridge: Bridge
) -> None:
    fill(tmp_path, 30)
    model = MessageListModel(bridge)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_folder("Demo", "INBOX")
    assert model.rowCount() == 30
    qtmodeltester.check(model)


def test_message_model_loads_a_page_at_a_time(qtbot, tmp_path: Path, bridge: Bridge) -> None:
    fill(tmp_path, PAGE_SIZE * 2 + 5)
    model = MessageListModel(bridge)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_folder("Demo", "INBOX")
    assert model.rowCount() == PAGE_SIZE
    assert model.canFetchMore()
    first = model.data(model.index(0, 0), SUMMARY_ROLE)
    assert first.uid == PAGE_SIZE * 2 + 5  # newest first
    for expected in (PAGE_SIZE * 2, PAGE_SIZE * 2 + 5):
        with qtbot.waitSignal(model.loaded, timeout=5000):
            model.fetchMore()
        assert model.rowCount() == expected
    assert not model.canFetchMore()
    uids = [model.summary(row).uid for row in range(model.rowCount())]  # type: ignore[union-attr]
    assert uids == sorted(uids, reverse=True)
    assert len(set(uids)) == len(uids)


def test_message_rows_are_one_line_and_unread_is_bold(
    qtbot, tmp_path: Path, bridge: Bridge
) -> None:
    fill(tmp_path, 3)
    model = MessageListModel(bridge)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_folder("Demo", "INBOX")
    subject = model.data(model.index(0, 2))
    assert "\n" not in subject
    assert "\r" not in subject
    from PySide6.QtCore import Qt

    bold = [model.data(model.index(row, 1), Qt.ItemDataRole.FontRole) for row in range(3)]
    assert [font is not None and font.bold() for font in bold] == [
        False,
        True,
        True,
    ]  # uid 3: newest, seen


def test_a_page_for_a_folder_no_longer_shown_is_dropped(
    qtbot, tmp_path: Path, bridge: Bridge
) -> None:
    fill(tmp_path, 10)
    model = MessageListModel(bridge)
    model.set_folder("Demo", "INBOX")
    model.set_folder(None, None)  # before the first page arrived
    qtbot.waitUntil(lambda: not bridge.is_busy(), timeout=5000)
    assert model.rowCount() == 0


def test_flag_updates_and_removals_change_rows_in_place(
    qtbot, qtmodeltester, tmp_path: Path, bridge: Bridge
) -> None:
    fill(tmp_path, 5)
    model = MessageListModel(bridge)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_folder("Demo", "INBOX")
    with qtbot.waitSignal(model.dataChanged):
        model.update_flags(model.summary(0), ("\\Seen",))  # type: ignore[arg-type]
    assert model.summary(0).flags == ("\\Seen",)  # type: ignore[union-attr]
    model.remove([model.summary(0), model.summary(1)])  # type: ignore[list-item]
    assert [model.summary(r).uid for r in range(model.rowCount())] == [3, 2, 1]  # type: ignore[union-attr]
    qtmodeltester.check(model)


def _tree() -> list[AccountRow]:
    return [
        AccountRow(
            "Work",
            "me@work.example",
            (
                FolderRow("Work", "INBOX", "inbox", 10, 2),
                FolderRow("Work", "Sent", "sent", 4, 0),
            ),
        ),
        AccountRow("Empty", "me@home.example", ()),
    ]


def test_folder_model_passes_the_model_tester(qtmodeltester) -> None:
    model = FolderTreeModel()
    model.set_tree(_tree())
    qtmodeltester.check(model)
    inbox = model.first_inbox()
    assert inbox.data() == "Inbox (2)"
    assert inbox.data(LOCATION_ROLE) == ("Work", "INBOX")
    assert inbox.parent().data() == "Work"
    assert model.folder_index("Work", "Sent").data() == "Sent"
    assert not model.folder_index("Work", "Nope").isValid()


def test_folder_counts_change_in_place(qtbot, qtmodeltester) -> None:
    model = FolderTreeModel()
    model.set_tree(_tree())
    tree = _tree()
    tree[0] = AccountRow(
        "Work", "me@work.example", (FolderRow("Work", "INBOX", "inbox", 11, 3), tree[0].folders[1])
    )
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.dataChanged):
        model.set_tree(tree)
    assert model.first_inbox().data() == "Inbox (3)"
    qtmodeltester.check(model)


@pytest.mark.parametrize("case", [(1, "from"), (2, "subject"), (3, "date")])
def test_sorting_pages_through_the_store_in_that_order(
    qtbot, qtmodeltester, tmp_path: Path, bridge: Bridge, case: tuple[int, str]
) -> None:
    from PySide6.QtCore import Qt

    column, order = case
    fill(tmp_path, PAGE_SIZE + 50)
    model = MessageListModel(bridge)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_folder("Demo", "INBOX")
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.sort(column, Qt.SortOrder.AscendingOrder)
    assert model.sort_order == (order, False)
    while model.canFetchMore():
        with qtbot.waitSignal(model.loaded, timeout=5000):
            model.fetchMore()
    rows = [model.summary(r) for r in range(model.rowCount())]
    assert len({s.uid for s in rows}) == PAGE_SIZE + 50  # type: ignore[union-attr]
    key = {
        "from": lambda s: (s.from_addr.lower(), s.uid),
        "subject": lambda s: (s.subject.lower(), s.uid),
        "date": lambda s: s.sort_key,
    }[order]
    assert rows == sorted(rows, key=key)  # type: ignore[arg-type]
    qtmodeltester.check(model)


def test_search_results_sort_in_memory(qtbot, tmp_path: Path, bridge: Bridge) -> None:
    from PySide6.QtCore import Qt

    model = MessageListModel(bridge)
    model.set_folder("Demo", "INBOX")
    model.show_results([summary(3), summary(1), summary(2)])
    model.sort(3, Qt.SortOrder.AscendingOrder)
    assert [model.summary(r).uid for r in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
