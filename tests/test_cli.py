"""The command-line contract of ``inbox-app smime sign`` and ``inbox-app smime open``.

Scripts rely on it exactly: exit 0 success, 1 a security check failed, 2 bad input or
usage; errors are one line on stderr; ``open --json`` prints one JSON object; ``-o`` writes
only on exit 0. Most cases run in-process through ``main(argv)`` (fast); a few run the real
console script and ``python -m inbox_app`` as subprocesses. Every run gets a throwaway home
(``--home`` or ``INBOX_APP_HOME``): the real one is never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app import version
from inbox_app.cli.main import main
from inbox_app.smime import sign_message
from tests.pki import NOW, Issued, StandardPKI, make_ca, make_leaf, message

AT = NOW.isoformat()  # the test PKI is valid then
PAST = datetime(2020, 6, 1, 12, 0, tzinfo=UTC)
BODY = b"Hello Bob,\r\n\r\nsee you tomorrow.\r\n"
CONSOLE_SCRIPT = Path(sys.executable).with_name("inbox-app")
REQUIRED_KEYS = {
    "signature",
    "signers",
    "sender_match",
    "encryption",
    "decrypted_with",
    "layers",
    "warnings",
}


@dataclass(frozen=True)
class Inputs:
    """Files every test may read (never write)."""

    dir: Path
    pki: StandardPKI

    def __getattr__(self, name: str) -> str:
        path = self.dir / name.replace("_", ".", 1)
        if not path.exists():
            raise AttributeError(name)
        return str(path)


@pytest.fixture(scope="module")
def inputs(pki: StandardPKI, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    directory = tmp_path_factory.mktemp("cli-inputs")

    def write(name: str, data: bytes) -> None:
        (directory / name).write_bytes(data)

    write("root.pem", pki.root.pem())
    write("bob.pem", pki.bob.pem())
    write("alice.p12", pki.alice.p12(b"secret"))
    write("alice.pw", b"secret\n")
    write("bob.p12", pki.bob.p12(b"bob-password"))
    write("bob.pw", b"bob-password\r\n")
    write("plain.eml", message())
    signed = sign_message(message(), pki.alice.identity, now=NOW)
    write("signed.eml", signed)
    write("opaque.eml", sign_message(message(), pki.alice.identity, now=NOW, opaque=True))
    tampered = signed.replace(b"see you tomorrow", b"see you tomorroW", 1)
    assert tampered != signed
    write("tampered.eml", tampered)
    # Mail from 2020, signed by a certificate that expired at the start of 2021.
    old_root = make_ca(
        "Old Root", key_kind="p256", slot=60,
        not_before=datetime(2019, 1, 1, tzinfo=UTC), not_after=datetime(2030, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    old_alice = make_leaf(
        old_root, "alice@example.com", cn="Old Alice", key_kind="p256", slot=61,
        not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2021, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    write("oldroot.pem", old_root.pem())
    write("old.eml", sign_message(message(), old_alice.identity, now=PAST))
    return Inputs(directory, pki)


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: str

    @property
    def json(self) -> dict[str, object]:
        lines = self.out.decode().splitlines()
        assert len(lines) == 1, f"--json must print exactly one line: {self.out!r}"
        report = json.loads(lines[0])
        assert isinstance(report, dict)
        return report

    def assert_one_line_error(self) -> None:
        assert "Traceback" not in self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected one stderr line, got {self.err!r}"
        assert lines[0].strip()


Cli = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home passed with --home; INBOX_APP_HOME points at another empty one, for safety."""
    monkeypatch.setenv("INBOX_APP_HOME", str(tmp_path / "env-home"))
    return tmp_path / "home"


@pytest.fixture
def cli(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch, home: Path
) -> Cli:
    """Run ``main(argv)`` in-process with ``--home`` (unless ``home=None``)."""

    def run(*argv: str | Path, stdin: bytes | None = None, home_dir: Path | None = home) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        args = [str(arg) for arg in argv]
        if home_dir is not None:
            args = ["--home", str(home_dir), *args]
        capsysbinary.readouterr()
        try:
            code = main(args)
        except SystemExit as exc:  # argparse: --version, usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsysbinary.readouterr()
        return Result(code, out, err.decode())

    return run


def run_process(
    *argv: str | Path, home: Path, stdin: bytes | None = None, program: list[str] | None = None
) -> Result:
    env = {**os.environ, "INBOX_APP_HOME": str(home.parent / "env-home")}
    command = [*(program or [str(CONSOLE_SCRIPT)]), "--home", str(home), *map(str, argv)]
    completed = subprocess.run(
        command,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=60,
        env=env,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr.decode())


def cert_sha256(issued: Issued) -> str:
    return hashlib.sha256(issued.cert.public_bytes(Encoding.DER)).hexdigest()


def assert_valid_report(report: dict[str, object], signer: Issued, layers: list[str]) -> None:
    assert report.keys() >= REQUIRED_KEYS
    assert report["signature"] == "valid"
    assert report["sender_match"] is True
    assert report["encryption"] == "none"
    assert report["decrypted_with"] is None
    assert report["layers"] == layers
    assert isinstance(report["warnings"], list)
    signers = report["signers"]
    assert isinstance(signers, list)
    assert len(signers) == 1
    assert signers[0]["addresses"] == ["alice@example.com"]
    assert "CN=Alice" in signers[0]["subject"]
    assert signers[0]["sha256"] == cert_sha256(signer)


def details(report: dict[str, object]) -> dict[str, object]:
    layers = report["details"]
    assert isinstance(layers, list)
    assert len(layers) == 1
    detail = layers[0]
    assert isinstance(detail, dict)
    return detail


# ------------------------------------------------------------------ real processes


def test_sign_then_open_as_processes(inputs: Inputs, home: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.eml"
    result = run_process(
        "smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
        inputs.plain_eml, "-o", signed, home=home,
    )  # fmt: skip
    assert (result.code, result.err, result.out) == (0, "", b"")
    assert b"multipart/signed" in signed.read_bytes()

    result = run_process(
        "smime", "open", signed, "--ca", inputs.root_pem, "--at", AT, "--json", home=home
    )
    assert result.code == 0, result.err
    assert result.err == ""
    assert_valid_report(result.json, inputs.pki.alice, ["signed"])
    # The only trace: the verified signer's certificate, learnt for encrypting to them.
    assert sorted(p.name for p in home.iterdir()) == ["contacts.json"]
    assert (home / "contacts.json").stat().st_mode & 0o777 == 0o600


def test_sign_from_stdin_as_process(inputs: Inputs, home: Path, cli: Cli) -> None:
    result = run_process(
        "smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw, "-",
        home=home, stdin=message(),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.startswith(b"From: Alice <alice@example.com>\r\n")
    opened = cli("smime", "open", "-", "--ca", inputs.root_pem, "--at", AT, "--json",
                 stdin=result.out)  # fmt: skip
    assert opened.code == 0, opened.err
    assert_valid_report(opened.json, inputs.pki.alice, ["signed"])


def test_python_dash_m(inputs: Inputs, home: Path) -> None:
    result = run_process(
        "smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT, "--json",
        home=home, program=[sys.executable, "-m", "inbox_app"],
    )  # fmt: skip
    assert result.code == 0, result.err
    assert_valid_report(result.json, inputs.pki.alice, ["signed"])


def test_version_as_process(home: Path) -> None:
    result = run_process("--version", home=home)
    assert result.code == 0
    assert result.out.decode().strip() == f"inbox-app {version()}"


MALFORMED = {
    "garbage": lambda signed: b"\x00\x01 this is not mail \xff\xfe\r\n",
    "truncated-multipart-signed": lambda signed: signed[: len(signed) // 2],
    "signature-not-cms": lambda signed: signed.replace(
        signed[signed.index(b"MII") : signed.rindex(b"\r\n------=")], b"AAAA"
    ),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_exits_2_with_one_line_as_process(
    inputs: Inputs, home: Path, tmp_path: Path, kind: str
) -> None:
    broken = tmp_path / "broken.eml"
    broken.write_bytes(MALFORMED[kind](Path(inputs.signed_eml).read_bytes()))
    out = tmp_path / "out.eml"
    result = run_process(
        "smime", "open", broken, "--ca", inputs.root_pem, "--at", AT, "-o", out, home=home
    )
    assert result.code == 2
    result.assert_one_line_error()
    assert not out.exists()


def test_unknown_option_as_process(inputs: Inputs, home: Path) -> None:
    result = run_process("smime", "open", inputs.signed_eml, "--bogus", home=home)
    assert result.code == 2
    result.assert_one_line_error()
    assert result.out == b""


def test_key_without_its_password_file_as_process(inputs: Inputs, home: Path) -> None:
    """--password-file belongs to the --key before it, not to an earlier one."""
    result = run_process(
        "smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT,
        "--key", inputs.alice_p12, "--key", inputs.bob_p12, "--password-file", inputs.bob_pw,
        home=home,
    )  # fmt: skip
    assert result.code == 2
    result.assert_one_line_error()
    assert "alice.p12" in result.err


# ------------------------------------------------------------------ in-process: success


def test_round_trip_in_process(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    signed = tmp_path / "signed.eml"
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 inputs.plain_eml, "-o", signed)  # fmt: skip
    assert (result.code, result.out, result.err) == (0, b"", "")
    if os.name != "nt":
        assert signed.stat().st_mode & 0o777 == 0o600

    result = cli("smime", "open", signed, "--ca", inputs.root_pem, "--at", AT, "--json")
    assert result.code == 0, result.err
    report = result.json
    assert_valid_report(report, inputs.pki.alice, ["signed"])
    assert report["error"] is None
    assert report["from"] == "alice@example.com"
    assert details(report)["digest"] == "sha256"


def test_sign_to_stdout_by_default(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 inputs.plain_eml)  # fmt: skip
    assert result.code == 0, result.err
    assert b'protocol="application/pkcs7-signature"' in result.out
    assert b"Subject: Meeting\r\n" in result.out


def test_text_report_without_json(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT)
    assert result.code == 0, result.err
    text = result.out.decode()
    assert "signature: valid" in text
    assert cert_sha256(inputs.pki.alice) in text


def test_open_writes_the_displayable_message_0600(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "inner.eml"
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT,
                 "--json", "-o", out)  # fmt: skip
    assert result.code == 0, result.err
    inner = out.read_bytes()
    assert inner.startswith(b"From: Alice <alice@example.com>\r\n")
    assert b"Subject: Meeting\r\n" in inner
    assert inner.endswith(BODY)
    assert b"pkcs7" not in inner
    if os.name != "nt":
        assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_digest_shows_in_details(inputs: Inputs, cli: Cli, tmp_path: Path, digest: str) -> None:
    signed = tmp_path / "signed.eml"
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 "--digest", digest, inputs.plain_eml, "-o", signed)  # fmt: skip
    assert result.code == 0, result.err
    result = cli("smime", "open", signed, "--ca", inputs.root_pem, "--at", AT, "--json")
    assert result.code == 0, result.err
    assert_valid_report(result.json, inputs.pki.alice, ["signed"])
    assert details(result.json)["digest"] == digest


def test_unsupported_digest_is_a_usage_error(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 "--digest", "sha1", inputs.plain_eml)  # fmt: skip
    assert result.code == 2
    result.assert_one_line_error()
    assert result.out == b""


@pytest.mark.parametrize(
    ("options", "layers"),
    [
        (["--opaque"], ["signed-opaque"]),
        (["--pss"], ["signed"]),
        (["--opaque", "--pss", "--digest", "sha384"], ["signed-opaque"]),
        (["--encryption-cert", "bob.pem"], ["signed"]),
    ],
    ids=["opaque", "pss", "opaque-pss-sha384", "encryption-cert"],
)
def test_sign_options(
    inputs: Inputs, cli: Cli, tmp_path: Path, options: list[str], layers: list[str]
) -> None:
    options = [str(inputs.dir / arg) if arg.endswith(".pem") else arg for arg in options]
    signed = tmp_path / "signed.eml"
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 *options, inputs.plain_eml, "-o", signed)  # fmt: skip
    assert result.code == 0, result.err
    if "--opaque" in options:
        assert b"application/pkcs7-mime; smime-type=signed-data" in signed.read_bytes()
    out = tmp_path / "inner.eml"
    result = cli("smime", "open", signed, "--ca", inputs.root_pem, "--at", AT, "--json", "-o", out)
    assert result.code == 0, result.err
    assert_valid_report(result.json, inputs.pki.alice, layers)
    assert out.read_bytes().endswith(BODY)


def test_unsigned_message_opens_with_exit_0(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "inner.eml"
    result = cli("smime", "open", inputs.plain_eml, "--at", AT, "--json", "-o", out)
    assert result.code == 0, result.err
    report = result.json
    assert report.keys() >= REQUIRED_KEYS
    assert report["signature"] == "unsigned"
    assert report["signers"] == []
    assert report["sender_match"] is None
    assert report["encryption"] == "none"
    assert report["decrypted_with"] is None
    assert report["layers"] == []
    assert out.read_bytes() == message()


def test_open_from_stdin(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "open", "-", "--ca", inputs.root_pem, "--at", AT, "--json",
                 stdin=Path(inputs.opaque_eml).read_bytes())  # fmt: skip
    assert result.code == 0, result.err
    assert_valid_report(result.json, inputs.pki.alice, ["signed-opaque"])


def test_version_in_process(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out.decode().strip() == f"inbox-app {version()}"


def test_no_command_is_a_usage_error(cli: Cli) -> None:
    assert cli().code == 2


# ------------------------------------------------------------------ security failures: exit 1


def test_tampered_exits_1_and_writes_nothing(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "inner.eml"
    result = cli("smime", "open", inputs.tampered_eml, "--ca", inputs.root_pem, "--at", AT,
                 "--json", "-o", out)  # fmt: skip
    assert result.code == 1
    assert result.json["signature"] == "invalid"
    result.assert_one_line_error()
    assert not out.exists()


def test_failed_open_leaves_an_existing_output_untouched(
    inputs: Inputs, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "inner.eml"
    out.write_bytes(b"keep me")
    for broken in (inputs.tampered_eml, inputs.signed_eml):  # invalid; untrusted (no --ca)
        result = cli("smime", "open", broken, "--at", AT, "-o", out)
        assert result.code == 1
    assert out.read_bytes() == b"keep me"
    assert [path.name for path in tmp_path.iterdir()] == ["inner.eml"]  # no temporary files


def test_untrusted_without_ca_exits_1(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--at", AT, "--json")
    assert result.code == 1
    report = result.json
    assert report["signature"] == "untrusted"
    assert report["error"]
    result.assert_one_line_error()


def test_signed_by_someone_else_exits_1(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    forged = tmp_path / "forged.eml"
    forged.write_bytes(sign_message(message(sender="Bob <bob@example.org>"),
                                    inputs.pki.alice.identity, now=NOW))  # fmt: skip
    result = cli("smime", "open", forged, "--ca", inputs.root_pem, "--at", AT, "--json")
    assert result.code == 1
    assert result.json["signature"] == "invalid"
    assert result.json["sender_match"] is False


@pytest.mark.parametrize(
    "at", ["2020-06-01T12:00:00+00:00", "2020-06-01T12:00:00", "2020-06-01T12:00:00Z", "2020-06-01"]
)
def test_at_pins_the_time(inputs: Inputs, cli: Cli, at: str) -> None:
    result = cli("smime", "open", inputs.old_eml, "--ca", inputs.oldroot_pem, "--at", at, "--json")
    assert result.code == 0, result.err
    assert result.json["signature"] == "valid"


@pytest.mark.parametrize("at", [AT, None], ids=["at-2026", "now"])
def test_expired_certificate_without_a_past_at_exits_1(
    inputs: Inputs, cli: Cli, at: str | None
) -> None:
    at_option = ["--at", at] if at else []
    result = cli("smime", "open", inputs.old_eml, "--ca", inputs.oldroot_pem, *at_option, "--json")
    assert result.code == 1
    assert result.json["signature"] == "expired"


# ------------------------------------------------------------------ home and anchors


def test_anchors_in_home_are_trusted(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "with-anchors"
    (home / "anchors").mkdir(parents=True)
    (home / "anchors" / "root.pem").write_bytes(inputs.pki.root.pem())
    result = cli("smime", "open", inputs.signed_eml, "--at", AT, "--json", home_dir=home)
    assert result.code == 0, result.err
    assert_valid_report(result.json, inputs.pki.alice, ["signed"])


def test_inbox_app_home_environment(
    inputs: Inputs, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "env-anchors"
    (home / "anchors").mkdir(parents=True)
    (home / "anchors" / "root.pem").write_bytes(inputs.pki.root.pem())
    monkeypatch.setenv("INBOX_APP_HOME", str(home))
    result = cli("smime", "open", inputs.signed_eml, "--at", AT, home_dir=None)
    assert result.code == 0, result.err
    # --home wins over the environment: an empty home trusts nothing.
    result = cli("smime", "open", inputs.signed_eml, "--at", AT, home_dir=tmp_path / "empty")
    assert result.code == 1


def test_a_broken_anchor_file_is_bad_input(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "broken-anchors"
    (home / "anchors").mkdir(parents=True)
    (home / "anchors" / "junk.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\njunk\n")
    result = cli("smime", "open", inputs.signed_eml, "--at", AT, home_dir=home)
    assert result.code == 2
    result.assert_one_line_error()


# ------------------------------------------------------------------ keys and passwords


def test_password_files_pair_with_their_keys(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT,
                 "--key", inputs.alice_p12, "--password-file", inputs.alice_pw,
                 "--key", inputs.bob_p12, "--password-file", inputs.bob_pw)  # fmt: skip
    assert result.code == 0, result.err


def test_swapped_password_files_fail(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT,
                 "--key", inputs.alice_p12, "--password-file", inputs.bob_pw,
                 "--key", inputs.bob_p12, "--password-file", inputs.alice_pw)  # fmt: skip
    assert result.code == 2
    result.assert_one_line_error()
    assert "alice.p12" in result.err


def test_sign_with_wrong_password(inputs: Inputs, cli: Cli) -> None:
    result = cli("smime", "sign", "--key", inputs.alice_p12, "--password-file", inputs.bob_pw,
                 inputs.plain_eml)  # fmt: skip
    assert result.code == 2
    result.assert_one_line_error()
    assert result.out == b""
    assert "secret" not in result.err


# ------------------------------------------------------------------ bad input: exit 2


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_exits_2_in_process(inputs: Inputs, cli: Cli, tmp_path: Path, kind: str) -> None:
    broken = tmp_path / "broken.eml"
    broken.write_bytes(MALFORMED[kind](Path(inputs.signed_eml).read_bytes()))
    result = cli("smime", "open", broken, "--ca", inputs.root_pem, "--at", AT, "--json")
    assert result.code == 2
    assert result.json["signature"] == "error"
    result.assert_one_line_error()


@pytest.mark.parametrize(
    "argv",
    [
        ["smime", "open", "{missing}"],
        ["smime", "open", "{signed}", "--ca", "{missing}"],
        ["smime", "open", "{signed}", "--key", "{missing}", "--password-file", "{pw}"],
        ["smime", "sign", "--key", "{key}", "--password-file", "{pw}", "{missing}"],
        ["smime", "sign", "--key", "{missing}", "--password-file", "{pw}", "{plain}"],
        ["smime", "sign", "--key", "{key}", "--password-file", "{missing}", "{plain}"],
    ],
    ids=["open-in", "open-ca", "open-key", "sign-in", "sign-key", "sign-password-file"],
)
def test_missing_files_exit_2(inputs: Inputs, cli: Cli, tmp_path: Path, argv: list[str]) -> None:
    names = {
        "missing": str(tmp_path / "does-not-exist.eml"),
        "signed": inputs.signed_eml,
        "plain": inputs.plain_eml,
        "key": inputs.alice_p12,
        "pw": inputs.alice_pw,
    }
    result = cli(*(arg.format(**names) for arg in argv))
    assert result.code == 2
    result.assert_one_line_error()
    assert "does-not-exist.eml" in result.err


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01", ""])
def test_bad_at_exits_2(inputs: Inputs, cli: Cli, at: str) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", at)
    assert result.code == 2
    result.assert_one_line_error()


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus", "smime", "open", "x"],
        ["smime", "open", "x", "--bogus"],
        ["smime", "sign", "x"],  # --key is required
        ["smime", "sign", "--key", "k", "--digest", "md5", "x"],
        ["smime", "frobnicate"],
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 2
    result.assert_one_line_error()


def test_output_into_a_directory_is_bad_input(inputs: Inputs, cli: Cli, tmp_path: Path) -> None:
    result = cli("smime", "open", inputs.signed_eml, "--ca", inputs.root_pem, "--at", AT,
                 "-o", tmp_path)  # fmt: skip
    assert result.code == 2
    result.assert_one_line_error()
