"""The layering rules of DEVELOPERS.md, checked on the import graph.

- Only ``inbox_app/ui/`` may import PySide6.
- Dependencies point down: ui/cli -> services -> smime, credentials, ... -> errors, paths.
- The S/MIME engine touches neither network nor disk.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inbox_app"

# What each top-level package may import from inside inbox_app (besides itself).
ALLOWED = {
    "smime": {"errors"},
    "credentials": {"errors", "paths", "fileio", "smime"},
    "mail": {"errors", "paths", "fileio"},
    "store": {"errors", "paths", "fileio"},
    "transport": {"errors", "paths", "fileio"},
    "services": {"errors", "paths", "fileio", "smime", "credentials", "mail", "transport", "store"},
    "cli": {"errors", "paths", "fileio", "smime", "services"},
    "ui": {"errors", "paths", "services", "smime"},
    # The entry point: picks the CLI or the GUI.
    "app": {"cli", "ui"},
}
# Modules the engine must never use: it works on bytes handed to it.
ENGINE_FORBIDDEN = {
    "socket",
    "ssl",
    "urllib",
    "http",
    "imaplib",
    "smtplib",
    "pathlib",
    "shutil",
    "tempfile",
    "sqlite3",
    "subprocess",
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_ui_imports_qt(path: Path) -> None:
    if _layer(path) == "ui":
        return
    qt = {name for name in _imports(path) if name.split(".")[0] in {"PySide6", "shiboken6"}}
    assert not qt, f"{path.relative_to(PACKAGE)} imports {sorted(qt)}: only ui/ may"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_dependencies_point_down(path: Path) -> None:
    layer = _layer(path)
    allowed = ALLOWED.get(layer)
    if allowed is None:
        return  # the root modules (errors, paths, fileio, __main__) are checked below
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "inbox_app" or len(parts) < 2 or parts[1] == layer:
            continue
        assert parts[1] in allowed, f"{layer}/ must not import {name}"


def test_root_modules_import_nothing_above_them() -> None:
    for name in ("errors", "paths", "fileio"):
        for imported in _imports(PACKAGE / f"{name}.py"):
            parts = imported.split(".")
            if parts[0] == "inbox_app":
                assert parts[1] in {"errors", "paths"}, f"{name}.py imports {imported}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "smime").glob("*.py")), ids=lambda p: p.name)
def test_engine_has_no_io(path: Path) -> None:
    used = {name.split(".")[0] for name in _imports(path)} & ENGINE_FORBIDDEN
    assert not used, f"smime/{path.name} uses {sorted(used)}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    assert "open" not in calls, f"smime/{path.name} opens files"


def test_every_error_is_an_inbox_error_and_a_builtin() -> None:
    from inbox_app.cli.errors import UsageError
    from inbox_app.errors import InboxError
    from inbox_app.fileio import StorageError
    from inbox_app.smime import errors as smime_errors

    for error in (
        smime_errors.SmimeError,
        smime_errors.MalformedError,
        smime_errors.IdentityError,
        smime_errors.UnsupportedError,
        UsageError,
    ):
        assert issubclass(error, InboxError)
        assert issubclass(error, ValueError)
    assert issubclass(StorageError, InboxError)
    assert issubclass(StorageError, OSError)
