"""Benchmark the mail layer: IMAP sync against a real Dovecot, search and paging.

A script, not a test: it prints times and ratios measured in one run and never asserts.

- Seeds 10,000 messages into a private Dovecot on 127.0.0.1 (Maildir files).
- Initial summary sync (``Mailbox.sync`` into an empty store, median of three) vs a bare
  imapclient FETCH of the same items, 500 UIDs a command (target: at most 1.2x).
- An unchanged re-sync vs the initial sync (target: at most 5%).
- Search over 100,000 cached messages vs the same raw FTS5 query (target: at most 1.5x).
- Opening a 100,000-message folder's first page vs a 1,000-message folder's (target: at
  most 1.5x).

Usage:
    .venv/bin/python bench/bench_mail.py [--messages N]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from imapclient import IMAPClient  # type: ignore[import-untyped]  # noqa: E402

from inbox_app.credentials.secrets import MemorySecretStore  # noqa: E402
from inbox_app.services.app import InboxServices  # noqa: E402
from inbox_app.store import MailStore, MessageSummary  # noqa: E402
from inbox_app.store.mailstore import _SEARCH  # noqa: E402
from inbox_app.transport.imap import _SUMMARY_ITEMS  # noqa: E402
from inbox_app.transport.tls import create_context  # noqa: E402
from tests.servers import Dovecot, messages  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median(action: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(action) for _ in range(runs))


def bare_fetch(server: Dovecot) -> None:
    client = IMAPClient(server.host, port=server.imaps_port, ssl=True,
                        ssl_context=create_context(ca_file=server.ca_file))  # fmt: skip
    client.login(server.user, server.password)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]))
    for start in range(0, len(uids), 500):
        client.fetch(uids[start : start + 500], _SUMMARY_ITEMS)
    client.logout()


def seed_store(home: Path, account: str, folder: str, count: int) -> MailStore:
    store = MailStore(home)
    store.save_folder(account, folder, role=None, uidvalidity=1, uidnext=count + 1,
                      highestmodseq=None)  # fmt: skip
    base = datetime(2026, 1, 1, tzinfo=UTC)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    for start in range(0, count, 10_000):
        batch = range(start + 1, min(start + 10_000, count) + 1)
        store.add_summaries(
            MessageSummary(
                account,
                folder,
                uid,
                1,
                (),
                base,
                1000,
                "Alice <a@example.com>",
                f"Report {uid} {words[uid % 8]}",
                base + timedelta(minutes=uid),
                f"<{uid}@example.com>",
                "none",
            )
            for uid in batch
        )
        texts = (
            (uid, f"Alice\nReport {uid} {words[uid % 8]}", f"body {words[(uid * 3) % 8]} {uid}")
            for uid in batch
        )
        store.index_texts(account, folder, texts)
    return store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages in Dovecot")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        directory.chmod(0o755)
        server = Dovecot()
        (directory / "dovecot").mkdir()
        server.start(directory / "dovecot")
        try:
            server.seed("INBOX", messages(args.messages))
            bare_fetch(server)  # Dovecot builds its index once; both sides then find it warm
            homes = iter(range(3))

            def fresh_sync() -> InboxServices:
                services = InboxServices(directory / f"home{next(homes)}", MemorySecretStore())
                services.accounts.add_server(
                    "bench", "test@example.com", imap=f"{server.host}:{server.imaps_port}",
                    smtp="127.0.0.1:25", username=server.user, password=server.password,
                    ca_file=str(server.ca_file),
                )  # fmt: skip
                services.mailbox.sync("bench")
                return services

            # Each initial sync starts from an empty store: the median of three.
            initials = []
            for _ in range(3):
                started = time.perf_counter()
                services = fresh_sync()
                initials.append(time.perf_counter() - started)
            initial = statistics.median(initials)
            resync = median(lambda: services.mailbox.sync("bench"), 3)
            bare = median(lambda: bare_fetch(server), 3)
        finally:
            server.stop()

        big = seed_store(directory / "big", "bench", "INBOX", 100_000)
        small = seed_store(directory / "small", "bench", "INBOX", 1_000)
        ours_search = median(lambda: big.search("bench", "charlie"), 20)
        raw = sqlite3.connect(big.path)
        # The same query the store runs, returning the same columns, without our wrapping.
        raw_search = median(
            lambda: raw.execute(_SEARCH, ('"charlie"', "bench", None, None, 100)).fetchall(), 20
        )
        page_big = median(lambda: big.page("bench", "INBOX", limit=100), 50)
        page_small = median(lambda: small.page("bench", "INBOX", limit=100), 50)

    print(f"{'measurement':52}{'time':>12}{'ratio':>10}")
    print(
        f"{f'initial summary sync, {args.messages} messages':52}{initial:>11.2f}s"
        f"{initial / bare:>9.2f}x  (vs bare imapclient FETCH {bare:.2f}s; target <= 1.2x)"
    )
    print(f"{'unchanged re-sync':52}{resync:>11.3f}s{resync / initial:>9.1%}"
          "  (of the initial sync; target <= 5%)")  # fmt: skip
    print(f"{'search over 100,000 cached messages':52}{ours_search * 1000:>10.2f}ms"
          f"{ours_search / raw_search:>9.2f}x  (vs raw FTS5 {raw_search * 1000:.2f}ms; "
          "target <= 1.5x)")  # fmt: skip
    print(f"{'first page of a 100,000-message folder':52}{page_big * 1000:>10.2f}ms"
          f"{page_big / page_small:>9.2f}x  (vs 1,000 messages {page_small * 1000:.2f}ms; "
          "target <= 1.5x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
