"""Routing a file the OS opens with the app: by its bytes first, by its name otherwise."""

from __future__ import annotations

import base64
import os
import plistlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_app.errors import InboxError
from inbox_app.services.demo_pki import build_demo_pki
from inbox_app.services.demo_profile import demo_profile, demo_profile_plist
from inbox_app.services.open_file import (
    MAX_FILE_BYTES,
    FileKind,
    OpenFileError,
    classify,
    sniff,
)
from tests.pki import message, standard_pki
from tests.profile_factory import bundle, pem_wrap, profile_pki

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signed_profile() -> bytes:
    return demo_profile(build_demo_pki(NOW))


@pytest.fixture(scope="module")
def plain_profile() -> bytes:
    return demo_profile_plist(build_demo_pki(NOW))


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_a_p12_by_its_name_and_by_its_bytes(tmp_path: Path) -> None:
    p12 = standard_pki().alice.p12()
    for name in ("alice.p12", "alice.PFX", "alice.bin", "alice.eml"):
        opened = classify(_write(tmp_path, name, p12))
        assert opened.kind is FileKind.P12, name
        assert opened.data == p12
        assert opened.name == name


def test_a_legacy_p12_without_a_password_is_still_a_p12(tmp_path: Path) -> None:
    p12 = standard_pki().bob.p12(None)
    assert classify(_write(tmp_path, "bob", p12)).kind is FileKind.P12


@pytest.mark.parametrize("name", ["profile.mobileconfig", "profile.xml", "profile", "x.eml"])
def test_a_signed_profile_whatever_its_name(
    tmp_path: Path, signed_profile: bytes, name: str
) -> None:
    assert classify(_write(tmp_path, name, signed_profile)).kind is FileKind.PROFILE


def test_profiles_in_every_encoding(plain_profile: bytes, signed_profile: bytes) -> None:
    binary = plistlib.dumps(plistlib.loads(plain_profile), fmt=plistlib.FMT_BINARY)
    pki = profile_pki()
    for data in (
        plain_profile,
        b"\xef\xbb\xbf\n" + plain_profile,  # a byte-order mark and a blank line first
        binary,
        pem_wrap(signed_profile),
        pem_wrap(signed_profile, "CMS"),
        base64.encodebytes(signed_profile),
        bundle(signing=(pki.alice_sign, "pw")),
    ):
        assert sniff(data) is FileKind.PROFILE, data[:40]


def test_messages(tmp_path: Path) -> None:
    raw = message()
    assert classify(_write(tmp_path, "mail.eml", raw)).kind is FileKind.MESSAGE
    assert classify(_write(tmp_path, "mail.txt", raw)).kind is FileKind.MESSAGE
    lf = raw.replace(b"\r\n", b"\n")
    assert sniff(lf) is FileKind.MESSAGE
    mbox = b"From alice@example.com Mon Jun  1 12:00:00 2026\n" + lf
    assert sniff(mbox) is FileKind.MESSAGE
    folded = b"Received: from a\r\n\tby b; Mon, 1 Jun 2026\r\nSubject: x\r\n\r\nbody\r\n"
    assert sniff(folded) is FileKind.MESSAGE


def test_a_message_named_p12_is_a_message(tmp_path: Path) -> None:
    assert classify(_write(tmp_path, "invoice.p12", message())).kind is FileKind.MESSAGE


@pytest.mark.parametrize(
    "data",
    [
        b"just some text\nwith lines\n",
        b"Not-A-Known-Field: x\n\nbody",  # fields, but none a message has
        b": no name\n\n",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"\x30\x03\x02\x01\x05",  # a SEQUENCE, but neither a PFX nor a signed profile
        b"{}",
        b"<html><body>hello</body></html>",
    ],
)
def test_unknown_content_matches_no_kind(data: bytes) -> None:
    assert sniff(data) is None


def test_unknown_content_falls_back_to_the_extension(tmp_path: Path) -> None:
    # A damaged profile still goes to the profile flow, which says what is wrong with it.
    assert classify(_write(tmp_path, "broken.mobileconfig", b"garbage")).kind is FileKind.PROFILE
    assert classify(_write(tmp_path, "broken.pfx", b"garbage")).kind is FileKind.P12


def test_an_unknown_file_is_one_clear_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "picture.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(OpenFileError, match=r"cannot open picture\.png") as caught:
        classify(path)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, InboxError)
    assert isinstance(caught.value, OSError)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OpenFileError, match="there is no file"):
        classify(tmp_path / "nothing.p12")


def test_a_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.eml").mkdir()
    with pytest.raises(OpenFileError, match="is a folder"):
        classify(tmp_path / "folder.eml")


def test_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(OpenFileError, match="is empty"):
        classify(_write(tmp_path, "empty.eml", b""))


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="POSIX permissions, not root")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "secret.p12", b"x")
    path.chmod(0)
    try:
        with pytest.raises(OpenFileError, match="permission denied"):
            classify(path)
    finally:
        path.chmod(0o600)


def test_a_file_too_large(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.eml", message() + b"x" * 2048)
    with pytest.raises(OpenFileError, match="larger than"):
        classify(path, limit=1024)
    assert MAX_FILE_BYTES == 50 * 2**20
    assert classify(path, limit=4096).kind is FileKind.MESSAGE


def test_a_name_with_a_line_break_stays_one_line(tmp_path: Path) -> None:
    if os.name == "nt":
        pytest.skip("Windows file names cannot hold line breaks")
    path = _write(tmp_path, "evil\nname.png", b"\x00\x01")
    with pytest.raises(OpenFileError) as caught:
        classify(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(OpenFileError) as missing:
        classify(tmp_path / "gone\nfile.eml")
    assert "\n" not in str(missing.value)
