"""The time the GUI checks certificates against: passed in, so tests can pin it.

Only the outermost caller reads the clock (STYLE.md habit 9); windows and dialogs take a
``Clock`` and call it when they check something.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

Clock = Callable[[], "datetime"]


def utc_now() -> datetime:
    """Now, in UTC (the default clock)."""
    from datetime import UTC, datetime  # noqa: PLC0415 - not needed before the first paint

    return datetime.now(UTC)


def as_clock(now: Clock | datetime) -> Clock:
    """A clock from a clock or a fixed time (tests pin it)."""
    from datetime import datetime  # noqa: PLC0415

    if isinstance(now, datetime):
        fixed = now
        return lambda: fixed
    return now
