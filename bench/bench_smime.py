"""Benchmark S/MIME signing and verification against ``openssl cms``.

A script, not a test: it prints times and ratios (ours / OpenSSL) and never asserts.

Whole process (wall time of a subprocess, median of N runs), for a 1 KB message and a
20 MB one (a base64 attachment in multipart/mixed):
    ours:   inbox-app smime sign ...      then  inbox-app smime open ... --ca
    theirs: openssl cms -sign ...         then  openssl cms -verify ...
In process: open_message() verifications per second of a 1 KB signed message, and
sign_message() signs per second.

Targets (from the issue): 20 MB verify at most 1.0x OpenSSL's; >= 2,000 verifications/s.

Usage:
    .venv/bin/python bench/bench_smime.py [--quick] [--runs N] [--size-mb M] [--profile]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inbox_app.smime import TrustStore, open_message, sign_message  # noqa: E402
from tests.pki import NOW, standard_pki  # noqa: E402

TARGET_VERIFY_RATIO = 1.0
TARGET_VERIFIES_PER_SECOND = 2000


def find_inbox_app() -> str:
    beside = Path(sys.executable).with_name("inbox-app")
    if beside.exists():
        return str(beside)
    venv = REPO / ".venv" / "bin" / "inbox-app"
    if venv.exists():
        return str(venv)
    found = shutil.which("inbox-app")
    if found is None:
        sys.exit("inbox-app not found: run with the project's .venv/bin/python")
    return found


def small_entity() -> bytes:
    """About 1 KB of text/plain, CRLF."""
    line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n"
    return b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + line * 16


def large_entity(size_mb: float) -> bytes:
    """multipart/mixed with a short text and a base64 attachment of about ``size_mb`` MB."""
    raw = os.urandom(int(size_mb * 1024 * 1024 * 3 / 4))
    encoded = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return (
        b'Content-Type: multipart/mixed; boundary="bench-boundary"\r\n\r\n'
        b"--bench-boundary\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"The data you asked for.\r\n"
        b"--bench-boundary\r\n"
        b'Content-Type: application/octet-stream; name="data.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="data.bin"\r\n\r\n'
        + encoded
        + b"--bench-boundary--\r\n"
    )


def whole_message(entity: bytes) -> bytes:
    content_header, sep, body = entity.partition(b"\r\n\r\n")
    return (
        b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\n"
        b"Subject: Benchmark\r\nDate: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
        b"MIME-Version: 1.0\r\n" + content_header + sep + body
    )


def timed(command: Sequence[str | Path]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, check=False, timeout=600
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        joined = " ".join(map(str, command))
        sys.exit(
            f"failed ({result.returncode}): {joined}\n{result.stderr.decode(errors='replace')}"
        )
    return elapsed


def median_time(command: Sequence[str | Path], runs: int) -> float:
    return statistics.median(timed(command) for _ in range(runs))


def per_second(action: Callable[[], object], seconds: float) -> float:
    action()  # warm up
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        action()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def profile(action: Callable[[], object], title: str, limit: int = 12) -> None:
    """Print where the time goes: inbox_app functions by cumulative time, all by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    for sort, restriction, heading in (
        ("cumulative", r"inbox_app", "inbox_app functions, cumulative"),
        ("tottime", None, "every function, own time"),
    ):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(sort)
        stats.print_stats(*(r for r in (restriction, limit) if r is not None))
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print(f"\n--- profile: {title}: {heading} (top {limit}) ---")
        print("\n".join(line.replace(str(REPO) + "/", "") for line in lines[start:]))


def parse_options(
    doc: str | None, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, int, float]:
    """The options both benchmark scripts take: (arguments, runs, loop seconds)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs, 1 s in-process loops")
    parser.add_argument("--runs", type=int, help="subprocess runs per measurement (median)")
    parser.add_argument("--size-mb", type=float, default=20.0, help="large message size")
    parser.add_argument("--seconds", type=float, help="duration of each in-process loop")
    parser.add_argument("--profile", action="store_true", help="cProfile missed targets")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    seconds = args.seconds or (1.0 if args.quick else 3.0)
    return args, runs, seconds


def main(argv: Sequence[str] | None = None) -> int:
    args, runs, seconds = parse_options(__doc__, argv)
    openssl = shutil.which("openssl")
    if openssl is None:
        sys.exit("openssl is not installed")
    inbox_app = find_inbox_app()

    pki = standard_pki()
    alice = pki.alice
    at = NOW.isoformat()
    attime = str(int(NOW.timestamp()))
    version = subprocess.run([openssl, "version"], capture_output=True, text=True, check=True)
    print(f"peer: {version.stdout.strip()}; runs per measurement: {runs} (median)")

    verify_ratio = None
    with tempfile.TemporaryDirectory(prefix="inbox-bench-") as temp:
        tmp = Path(temp)
        home = tmp / "home"
        files = {
            "root.pem": pki.root.pem(),
            "intermediate.pem": pki.intermediate.pem(),
            "alice.pem": alice.pem(),
            "alice.key": alice.key_pem(),
            "alice.p12": alice.p12(b"bench"),
            "alice.pw": b"bench\n",
        }
        for name, data in files.items():
            (tmp / name).write_bytes(data)

        print(f"\n{'':24}{'ours':>10}{'openssl':>10}{'ratio':>8}")
        for label, entity in (
            ("1 KB", small_entity()),
            (f"{args.size_mb:g} MB", large_entity(args.size_mb)),
        ):
            slug = label.replace(" ", "")
            (tmp / f"{slug}.eml").write_bytes(whole_message(entity))
            (tmp / f"{slug}.entity").write_bytes(entity)
            ours_signed = tmp / f"{slug}.ours.eml"
            theirs_signed = tmp / f"{slug}.openssl.eml"
            ours_sign = median_time(
                [inbox_app, "--home", home, "smime", "sign", "--key", tmp / "alice.p12",
                 "--password-file", tmp / "alice.pw", tmp / f"{slug}.eml", "-o", ours_signed],
                runs,
            )  # fmt: skip
            theirs_sign = median_time(
                [openssl, "cms", "-sign", "-signer", tmp / "alice.pem", "-inkey",
                 tmp / "alice.key", "-certfile", tmp / "intermediate.pem", "-md", "sha256",
                 "-from", "Alice <alice@example.com>", "-to", "Bob <bob@example.org>",
                 "-subject", "Benchmark", "-in", tmp / f"{slug}.entity", "-out", theirs_signed],
                runs,
            )  # fmt: skip
            ours_verify = median_time(
                [inbox_app, "--home", home, "smime", "open", ours_signed, "--ca",
                 tmp / "root.pem", "--at", at, "-o", tmp / f"{slug}.ours.out"],
                runs,
            )  # fmt: skip
            theirs_verify = median_time(
                [openssl, "cms", "-verify", "-CAfile", tmp / "root.pem", "-attime", attime,
                 "-in", theirs_signed, "-out", tmp / f"{slug}.openssl.out"],
                runs,
            )  # fmt: skip
            for what, ours, theirs in (
                ("sign", ours_sign, theirs_sign),
                ("verify", ours_verify, theirs_verify),
            ):
                print(
                    f"{label + ' ' + what:24}{ours * 1000:>8.0f}ms{theirs * 1000:>8.0f}ms"
                    f"{ours / theirs:>7.1f}x"
                )
            if slug != "1KB":
                verify_ratio = ours_verify / theirs_verify
                large_signed = ours_signed.read_bytes()

        trust = TrustStore([pki.root.cert])
        small_signed = sign_message(whole_message(small_entity()), alice.identity, now=NOW)
        report = open_message(small_signed, trust=trust, now=NOW)
        assert report.ok, report.error  # a benchmark of failures would be meaningless

        def verify_small() -> object:
            return open_message(small_signed, trust=trust, now=NOW)

        def sign_small() -> object:
            return sign_message(whole_message(small_entity()), alice.identity, now=NOW)

        verifies = per_second(verify_small, seconds)
        signs = per_second(sign_small, seconds)
        print(f"\nin process, 1 KB: {verifies:,.0f} verifications/s, {signs:,.0f} signs/s")

        print("\ntargets:")
        assert verify_ratio is not None
        print(
            f"  {args.size_mb:g} MB verify <= {TARGET_VERIFY_RATIO:.1f}x openssl: "
            f"{verify_ratio:.2f}x  {'met' if verify_ratio <= TARGET_VERIFY_RATIO else 'MISSED'}"
        )
        print(
            f"  1 KB verifications >= {TARGET_VERIFIES_PER_SECOND:,}/s: {verifies:,.0f}/s  "
            f"{'met' if verifies >= TARGET_VERIFIES_PER_SECOND else 'MISSED'}"
        )

        if args.profile:
            if verifies < TARGET_VERIFIES_PER_SECOND:

                def many() -> None:
                    for _ in range(200):
                        verify_small()

                profile(many, "200 x open_message, 1 KB")
            if verify_ratio > TARGET_VERIFY_RATIO:
                profile(
                    lambda: open_message(large_signed, trust=trust, now=NOW),
                    f"open_message, {args.size_mb:g} MB",
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
