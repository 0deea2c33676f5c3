"""Atomic, private file writes and the data directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from inbox_app.fileio import StorageError, atomic_write, read_file
from inbox_app.paths import HOME_ENV, ensure_private_dir, resolve_home


def test_atomic_write_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.eml"
    target.write_bytes(b"old")
    atomic_write(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.eml"]  # no temporary files left


def test_atomic_write_failure_keeps_nothing(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot write"):
        atomic_write(tmp_path / "missing-dir" / "x", b"data")


def test_read_file_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        read_file(tmp_path / "nope", what="message")
    assert "\n" not in str(info.value)
    assert isinstance(info.value, OSError)


def test_home_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "env"))
    assert resolve_home(None) == tmp_path / "env"
    assert resolve_home(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv(HOME_ENV)
    assert resolve_home(None).name in {"inbox-app", "Inbox"}


def test_private_dir(tmp_path: Path) -> None:
    directory = ensure_private_dir(tmp_path / "a" / "b")
    if os.name != "nt":
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
