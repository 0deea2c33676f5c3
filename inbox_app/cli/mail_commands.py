"""``inbox-app sync|messages|show|search|send|outbox``: mail through the local store.

Exit codes follow the rest of the command line: 0 success; 1 a security check failed
(for ``sync``, a server certificate that is not trusted; for ``send``, any message that
stays in the outbox); 2 bad input or anything else that failed (a wrong password, a
server that cannot be reached). Every failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inbox_app.cli import inputs
from inbox_app.cli.smime_commands import EXIT_BAD_INPUT, describe, exit_code
from inbox_app.errors import InboxError, one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.mailbox import TlsError, summary_json
from inbox_app.smime import mime

EXIT_OK = 0
EXIT_SECURITY = 1  # "send": the message stays in the outbox


def add_parsers(subparsers: Any) -> None:
    sync = subparsers.add_parser("sync", help="fetch new mail into the local store")
    sync.add_argument("name", metavar="NAME", nargs="?", help="one account (default: all)")
    sync.set_defaults(handler=run_sync)

    messages = subparsers.add_parser("messages", help="list a folder's messages")
    messages.add_argument("name", metavar="NAME")
    messages.add_argument("--folder", default="INBOX", metavar="F")
    messages.add_argument("--json", action="store_true", help="print a JSON array")
    messages.set_defaults(handler=run_messages)

    show = subparsers.add_parser("show", help="open a message: its security report and header")
    show.add_argument("name", metavar="NAME")
    show.add_argument("uid", metavar="UID", type=int)
    show.add_argument("--folder", default="INBOX", metavar="F")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=run_show)

    send = subparsers.add_parser("send", help="send a message through the outbox")
    send.add_argument("name", metavar="NAME")
    send.add_argument("file", metavar="FILE.eml")
    send.add_argument("--sign", action="store_true", help="sign (with the keystore's identity)")
    send.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt to every recipient (refused if one has no certificate)",
    )
    send.set_defaults(handler=run_send)

    outbox = subparsers.add_parser("outbox", help="what is waiting to be sent; --retry sends it")
    outbox.add_argument("name", metavar="NAME")
    outbox.add_argument("--retry", action="store_true", help="try to send the waiting messages")
    outbox.add_argument(
        "--force", action="store_true", help="also resend what may have been delivered"
    )
    outbox.add_argument("--json", action="store_true", help="print a JSON array")
    outbox.set_defaults(handler=run_outbox)

    search = subparsers.add_parser("search", help="search an account's cached mail")
    search.add_argument("name", metavar="NAME")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.set_defaults(handler=run_search)


def run_sync(args: argparse.Namespace, services: InboxServices) -> int:
    """Sync one account, or each in turn (one failing does not stop the others)."""
    if args.name:
        services.accounts.get(args.name)  # an unknown name is bad input, as elsewhere
        names = [args.name]
    else:
        names = [a.name for a in services.accounts.accounts()]
    failures: list[int] = []
    for name in names:
        try:
            result = services.mailbox.sync(name, progress=_progress)
        except TlsError as exc:
            # The server's identity could not be checked: a security check failed.
            sys.stderr.write(f"inbox-app: {name}: {one_line(str(exc))}\n")
            failures.append(EXIT_SECURITY)
            continue
        except InboxError as exc:
            sys.stderr.write(f"inbox-app: {name}: {one_line(str(exc))}\n")
            failures.append(EXIT_BAD_INPUT)
            continue
        sys.stdout.write(result.describe() + "\n")
    # A certificate failure is never hidden behind another account's lesser one.
    return EXIT_SECURITY if EXIT_SECURITY in failures else max(failures, default=EXIT_OK)


def _progress(text: str) -> None:
    sys.stderr.write(one_line(text) + "\n")


def run_messages(args: argparse.Namespace, services: InboxServices) -> int:
    found = services.mailbox.messages(args.name, args.folder)
    _print_summaries(found, as_json=args.json)
    return EXIT_OK


def run_show(args: argparse.Namespace, services: InboxServices) -> int:
    report = services.mailbox.show(
        args.name, args.uid, folder=args.folder, now=inputs.parse_time(None)
    )
    headers = _headers(report.inner)
    if args.json:
        sys.stdout.write(json.dumps({**report.to_json(), "headers": headers}) + "\n")
    else:
        for name, value in headers.items():
            sys.stdout.write(one_line(f"{name}: {value}") + "\n")
        sys.stdout.write(describe(report))
    if report.error and not report.ok:
        sys.stderr.write(f"inbox-app: {one_line(report.error)}\n")
    return exit_code(report)


def run_send(args: argparse.Namespace, services: InboxServices) -> int:
    raw = inputs.read_message(args.file)
    outcome = services.sender.send(
        args.name, raw, sign=args.sign, encrypt=args.encrypt, now=inputs.parse_time(None)
    )
    if outcome.sent:
        sys.stdout.write(f"sent: {one_line(outcome.detail)}\n")
        return EXIT_OK
    sys.stderr.write(f"inbox-app: not sent, it stays in the outbox: {one_line(outcome.detail)}\n")
    return EXIT_SECURITY


def run_outbox(args: argparse.Namespace, services: InboxServices) -> int:
    code = EXIT_OK
    if args.retry:
        for outcome in services.sender.retry(args.name, force=args.force):
            if not outcome.sent:
                code = EXIT_SECURITY
                sys.stderr.write(f"inbox-app: {outcome.outbox_id}: {one_line(outcome.detail)}\n")
    items = services.mailbox.store.outbox(args.name)
    data = [
        {"id": item.id, "message_id": item.message_id, "state": item.state,
         "attempts": item.attempts, "error": item.last_error,
         "maybe_delivered": item.maybe_delivered}
        for item in items
    ]  # fmt: skip
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        for entry in data:
            sys.stdout.write(
                one_line(f"{entry['id']}  {entry['state']}  {entry['error'] or ''}") + "\n"
            )
    return code


def run_search(args: argparse.Namespace, services: InboxServices) -> int:
    _print_summaries(services.mailbox.search(args.name, args.query), as_json=args.json)
    return EXIT_OK


def _print_summaries(found: list[Any], *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps([summary_json(s) for s in found]) + "\n")
        return
    for summary in found:
        data = summary_json(summary)
        line = f"{data['uid']:>6}  {data['security']:16}  {data['from'][:30]:30}  {data['subject']}"
        sys.stdout.write(one_line(line) + "\n")


def _headers(inner: bytes | None) -> dict[str, str]:
    """The displayable message's header fields (protected ones when present)."""
    if inner is None:
        return {}
    header_block, _ = mime.split_header_body(inner)
    shown = ("from", "to", "cc", "subject", "date", "message-id")
    return {name: value for name, value in mime.parse_header_block(header_block) if name in shown}
