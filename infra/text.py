"""Text forms every layer shares: canonical JSON, numbers as PromQL and env vars read them, and
markdown code spans (the review reports of estate check and estate diff).

No imports from the project: the plans, the renderers, alerts/, dashboards/ and the synth all
call these, so a dashboard's JSON and a resource's JSON are written the same way.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(data: Any) -> str:
    """Sorted keys, two-space indent, UTF-8 as is, a final newline: stable across runs."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def num(value: float) -> str:
    """A number as PromQL (and an env var) reads it: 2 rather than 2.0, 0.05 rather than 5e-02."""
    if float(value).is_integer():
        return str(int(value))
    return repr(value)


def code(value: str, *, cell: bool = False) -> str:
    """`value` as a markdown code span, literal whatever it holds (backticks, `:emoji:`,
    `@mentions`, HTML). In a table `cell`, pipes are escaped (GitHub unescapes them)."""
    value = value.replace("\n", "⏎")
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    span = f"{fence}{pad}{value}{pad}{fence}"
    return span.replace("|", "\\|") if cell else span
