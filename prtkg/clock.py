"""'Today' for deadlines: the calendar day in China (UTC+8), whatever the machine's zone."""
from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8))


def today() -> dt.date:
    """'Today' for deadlines: the calendar day in China."""
    return dt.datetime.now(CHINA).date()
