"""Benchmark S/MIME encryption and decryption against ``openssl cms``.

A script, not a test: it prints times and ratios (ours / OpenSSL) and never asserts.

Whole process (wall time of a subprocess, median of N runs), for a 1 KB message and a
20 MB one (a base64 attachment in multipart/mixed), one RSA-2048 recipient:
    ours:   inbox-app smime encrypt --to bob.pem      then  inbox-app smime open --key bob.p12
    theirs: openssl cms -encrypt -aes-256-gcm bob.pem then  openssl cms -decrypt
Open (decrypt + verify) of a 20 MB signed-then-encrypted message:
    ours:   inbox-app smime open --key bob.p12 --ca root.pem
    theirs: openssl cms -decrypt ... | openssl cms -verify -CAfile root.pem
In process: decrypt_envelope() of a 1 KB message (RSA-2048 PKCS#1 v1.5, AES-256-GCM) per
second, against the raw RSA-2048 private-key operations per second of this machine,
measured in the same run.

Targets: 20 MB open at most 1.0x OpenSSL's decrypt-then-verify; in-process decryption at
least 80% of the raw RSA-2048 private-key rate.

Usage:
    .venv/bin/python bench/bench_encrypt.py [--quick] [--runs N] [--size-mb M] [--profile]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_smime import (  # noqa: E402
    find_inbox_app,
    large_entity,
    median_time,
    parse_options,
    per_second,
    profile,
    small_entity,
    whole_message,
)
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from inbox_app.smime import TrustStore, open_message  # noqa: E402
from inbox_app.smime._enveloped import parse_envelope  # noqa: E402
from inbox_app.smime.decrypt import decrypt_envelope  # noqa: E402
from inbox_app.smime.encrypt import encrypt_message  # noqa: E402
from inbox_app.smime.mime import parse_entity  # noqa: E402
from tests.pki import NOW, standard_pki  # noqa: E402

TARGET_OPEN_RATIO = 1.0
TARGET_RSA_FRACTION = 0.80
ATTIME = str(int(NOW.timestamp()))


def run(command: Sequence[str | Path]) -> None:
    result = subprocess.run([str(c) for c in command], capture_output=True, check=False)
    if result.returncode != 0:
        sys.exit(f"setup failed: {' '.join(map(str, command))}\n{result.stderr.decode()}")


def row(label: str, ours: float, theirs: float) -> None:
    print(f"{label:<44}{ours:>9.3f}s{theirs:>9.3f}s{ours / theirs:>7.2f}x")


def bash(script: str) -> list[str]:
    return ["bash", "-o", "pipefail", "-c", script]


def main(argv: Sequence[str] | None = None) -> int:
    args, runs, seconds = parse_options(__doc__, argv)
    inbox = find_inbox_app()
    openssl = "openssl"
    pki = standard_pki()

    with tempfile.TemporaryDirectory(prefix="bench-encrypt-") as tmp:
        d = Path(tmp)
        home = d / "home"
        home.mkdir()
        for name in ("alice", "bob"):
            issued = getattr(pki, name)
            (d / f"{name}.pem").write_bytes(issued.pem())
            (d / f"{name}.key").write_bytes(issued.key_pem())
            (d / f"{name}.p12").write_bytes(issued.p12(b"bench"))
        (d / "pw").write_bytes(b"bench\n")
        (d / "root.pem").write_bytes(pki.root.pem())
        (d / "intermediate.pem").write_bytes(pki.intermediate.pem())
        (d / "small.eml").write_bytes(whole_message(small_entity()))
        (d / "large.eml").write_bytes(whole_message(large_entity(args.size_mb)))
        ours = [inbox, "--home", home, "smime"]
        key = ["--key", d / "bob.p12", "--password-file", d / "pw"]

        print(f"runs per measurement: {runs} (median, whole process); loops: {seconds:.0f} s")
        print(f"{'measurement':<44}{'ours':>10}{'openssl':>10}{'ratio':>8}")
        results: dict[str, float] = {}
        for size in ("small", "large"):
            src = d / f"{size}.eml"
            enc_ours, enc_theirs = d / f"{size}.ours.p7m", d / f"{size}.theirs.p7m"
            t_ours = median_time(
                [*ours, "encrypt", "--to", d / "bob.pem", src, "-o", enc_ours], runs
            )
            t_theirs = median_time(
                [openssl, "cms", "-encrypt", "-aes-256-gcm", "-binary", "-in", src,
                 "-out", enc_theirs, d / "bob.pem"],
                runs,
            )  # fmt: skip
            label = "1 KB" if size == "small" else f"{args.size_mb:g} MB"
            row("encrypt " + label, t_ours, t_theirs)
            d_ours = median_time(
                [*ours, "open", enc_ours, *key, "--at", NOW.isoformat(), "-o", d / "plain.ours"],
                runs,
            )
            d_theirs = median_time(
                [openssl, "cms", "-decrypt", "-in", enc_theirs, "-recip", d / "bob.pem",
                 "-inkey", d / "bob.key", "-out", d / "plain.theirs"],
                runs,
            )  # fmt: skip
            results[f"decrypt-{size}"] = d_ours / d_theirs
            row("decrypt " + label, d_ours, d_theirs)

        # 20 MB signed-then-encrypted: open (decrypt + verify).
        signed_ours = d / "large.signed.ours.p7m"
        run([*ours, "encrypt", "--to", d / "bob.pem", "--sign-key", d / "alice.p12",
             "--password-file", d / "pw", d / "large.eml", "-o", signed_ours])  # fmt: skip
        signed_theirs = d / "large.signed.theirs.p7m"
        run(bash(
            f"{openssl} cms -sign -binary -signer {d}/alice.pem -inkey {d}/alice.key "
            f"-certfile {d}/intermediate.pem -in {d}/large.eml | "
            f"{openssl} cms -encrypt -aes-256-gcm -binary -out {signed_theirs} {d}/bob.pem"
        ))  # fmt: skip
        o_ours = median_time(
            [*ours, "open", signed_ours, *key, "--ca", d / "root.pem", "--at", NOW.isoformat(),
             "-o", d / "plain.ours"],
            runs,
        )  # fmt: skip
        o_theirs = median_time(
            bash(
                f"{openssl} cms -decrypt -in {signed_theirs} -recip {d}/bob.pem "
                f"-inkey {d}/bob.key | {openssl} cms -verify -binary -CAfile {d}/root.pem "
                f"-attime {ATTIME} -out {d}/plain.theirs"
            ),
            runs,
        )
        open_ratio = o_ours / o_theirs
        label = f"open signed+encrypted {args.size_mb:g} MB"
        print(f"{label:<44}{o_ours:>9.3f}s{o_theirs:>9.3f}s{open_ratio:>7.2f}x")

        # In process: 1 KB decryptions per second vs raw RSA-2048 private-key operations.
        small = (d / "small.eml").read_bytes()
        der = parse_entity(encrypt_message(small, [pki.bob.cert], now=NOW)).decoded_body()
        encrypted_key = parse_envelope(der).recipients[0].encrypted_key  # type: ignore[union-attr]
        bob = pki.bob.identity
        rsa_key = pki.bob.key
        raw = rsa_key.decrypt  # type: ignore[union-attr]
        rsa_rate = per_second(lambda: raw(encrypted_key, padding.PKCS1v15()), seconds)
        decrypt_rate = per_second(lambda: decrypt_envelope(der, [bob]), seconds)
        message = encrypt_message(small, [pki.bob.cert], now=NOW)
        trust = TrustStore([pki.root.cert])
        open_rate = per_second(
            lambda: open_message(message, trust=trust, now=NOW, identities=[bob]), seconds
        )
        fraction = decrypt_rate / rsa_rate
        print(f"{'raw RSA-2048 private-key ops/s':<44}{rsa_rate:>10.0f}")
        print(f"{'decrypt_envelope 1 KB /s':<44}{decrypt_rate:>10.0f}{fraction:>18.0%} of RSA")
        print(f"{'open_message 1 KB (decrypt + parse) /s':<44}{open_rate:>10.0f}"
              f"{open_rate / rsa_rate:>18.0%} of RSA")  # fmt: skip

        print()
        missed = []
        ok = open_ratio <= TARGET_OPEN_RATIO
        print(f"target 20 MB open <= {TARGET_OPEN_RATIO:.1f}x OpenSSL: "
              f"{'met' if ok else 'MISSED'} ({open_ratio:.2f}x)")  # fmt: skip
        if not ok:
            missed.append("open")
        ok = fraction >= TARGET_RSA_FRACTION
        print(f"target decryptions >= {TARGET_RSA_FRACTION:.0%} of raw RSA: "
              f"{'met' if ok else 'MISSED'} ({fraction:.0%})")  # fmt: skip
        if not ok:
            missed.append("rate")
        if args.profile:
            if "open" in missed:
                big = signed_ours.read_bytes()
                profile(
                    lambda: open_message(big, trust=trust, now=NOW, identities=[bob]),
                    f"open_message of the {args.size_mb:g} MB signed+encrypted message",
                )
            if "rate" in missed:
                profile(
                    lambda: [decrypt_envelope(der, [bob]) for _ in range(200)],
                    "200 decrypt_envelope of 1 KB",
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
