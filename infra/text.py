"""Two text forms every layer shares: canonical JSON and numbers as PromQL and env vars read them.

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
