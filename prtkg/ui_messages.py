"""The message catalogue of the workbench pages and the HTML report (api/static/messages.json):
their words in zh and en, and the display order of codes (stages as the procedure runs).

Read by the report, the CLI's tables and the rule families' evidence, which sit on different layers,
so it has a module of its own below them all."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def messages() -> dict:
    """The message catalogue {lang: {key: text}} shared with the workbench pages."""
    text = resources.files("prtkg.api").joinpath("static/messages.json").read_text(encoding="utf-8")
    return json.loads(text)


def ordered(values: list[str], scheme: str) -> list[str]:
    """Codes in the display order of the message catalogue (stages as the procedure runs), others after."""
    order = messages().get("order", {}).get(scheme, [])
    return sorted(values, key=lambda v: (order.index(v) if v in order else len(order), v))
