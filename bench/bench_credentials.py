"""Benchmark credential installation and opening mail with many historic keys.

A script, not a test: it prints times next to a bare ``openssl pkcs12`` parse of the same
files, measured in the same run, and never asserts.

- Installing a signed profile with three identities (signing, encryption, one archived):
  ours = ProfileRegistry.install_data (parse, verify, decrypt three PKCS#12, validate,
  wrap and store), theirs = three ``openssl pkcs12 -nodes`` parses of the same payloads.
- Opening a 1 KB encrypted message while 20 historic keys are held (the key that opens it
  is the oldest): ours = SecureMail.open via the keystore, in process.

The keystore uses an in-memory secret store here, so the figures leave out the OS
keyring's round trip (about 10 ms on the Secret Service, once per command).

Usage:
    .venv/bin/python bench/bench_credentials.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inbox_app.credentials.keystore import ENCRYPT, Keystore, NewIdentity  # noqa: E402
from inbox_app.credentials.profiles import ProfileRegistry  # noqa: E402
from inbox_app.credentials.secrets import MemorySecretStore  # noqa: E402
from inbox_app.services.secure_mail import SecureMail  # noqa: E402
from inbox_app.smime import encrypt_message  # noqa: E402
from tests.pki import NOW, make_leaf, message  # noqa: E402
from tests.profile_factory import (  # noqa: E402
    engine_sign,
    mail_payload,
    pkcs12_payload,
    profile,
    profile_pki,
)

P12_PASSWORD = "p12-Secret-8d1c"  # noqa: S105 - the factory's test password


def median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args(argv)
    ppki = profile_pki()
    issued = [ppki.alice_sign, ppki.alice_enc, ppki.alice_archived]
    payloads = [
        pkcs12_payload(ppki.alice_sign, "SIGN-1"),
        pkcs12_payload(ppki.alice_enc, "ENC-1"),
        pkcs12_payload(ppki.alice_archived, "OLD-1"),
        mail_payload(signing="SIGN-1", encryption="ENC-1", historic=["OLD-1"]),
    ]
    signed = engine_sign(ppki.mdm_signer, profile(payloads))
    now = datetime.now(UTC)

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        p12_files = []
        for index, holder in enumerate(issued):
            path = directory / f"{index}.p12"
            path.write_bytes(holder.p12(P12_PASSWORD.encode()))
            p12_files.append(path)

        counter = iter(range(10**6))

        def install() -> None:
            home = directory / f"home-{next(counter)}"
            registry = ProfileRegistry(home, Keystore(home, MemorySecretStore()))
            registry.install_data(
                signed, extra_signers=[ppki.mdm_root.cert], allow_unsigned=False, now=now
            )

        def openssl_parse() -> None:
            for path in p12_files:
                subprocess.run(
                    ["openssl", "pkcs12", "-in", str(path), "-passin", f"pass:{P12_PASSWORD}",
                     "-nodes", "-out", "/dev/null"],
                    check=True, capture_output=True,
                )  # fmt: skip

        ours_install = median(install, args.runs)
        theirs_parse = median(openssl_parse, args.runs)

        # 20 historic encryption identities for one address, then the current one.
        home = directory / "historic"
        keystore = Keystore(home, MemorySecretStore())
        base = ppki.intermediate
        olds = [
            make_leaf(base, "alice@example.com", slot=100 + n, key_usage="encrypt",
                      not_before=NOW - timedelta(days=400 + n))
            for n in range(21)
        ]  # fmt: skip
        for holder in olds:  # each install retires the previous one
            keystore.install([NewIdentity(holder.identity, frozenset({ENCRYPT}), "bench")])
        historic = sum(1 for entry in keystore.identities() if entry.state == "historic")
        old_mail = encrypt_message(message(), [olds[0].cert], now=NOW)
        mail = SecureMail(home, keystore)
        report = mail.open(old_mail, now=NOW)
        assert report.historic_key, report.error
        ours_open = median(lambda: mail.open(old_mail, now=NOW), args.runs * 4)

    print(f"runs per measurement: {args.runs} (median)")
    print(f"{'measurement':45}{'time':>12}")
    print(f"{'install a signed profile, 3 identities':45}{ours_install * 1000:>10.1f}ms")
    print(f"{'openssl pkcs12 -nodes of the same 3 files':45}{theirs_parse * 1000:>10.1f}ms"
          f"   ratio {ours_install / theirs_parse:.2f}x")  # fmt: skip
    print(f"{f'open 1 KB with {historic} historic keys held':45}{ours_open * 1000:>10.1f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
