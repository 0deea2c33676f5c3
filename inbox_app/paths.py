"""Where Inbox keeps its data: one home directory, 0700, chosen once at start-up."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "INBOX_APP_HOME"


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory: ``--home``, else ``$INBOX_APP_HOME``, else the platform's.

    The directory is not created here; :func:`ensure_private_dir` does that when a command
    first writes to it, so read-only commands never leave a trace.
    """
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return _platform_data_dir()


def _platform_data_dir() -> Path:
    # %LOCALAPPDATA%\inbox-app, ~/Library/Application Support/inbox-app, ~/.local/share/inbox-app
    import platformdirs  # noqa: PLC0415  (only when no home was given)

    return platformdirs.user_data_path("inbox-app", appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 if missing; tighten it if present."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name != "nt":
        path.chmod(0o700)
    return path
