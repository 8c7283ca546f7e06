"""Prometheus label names: the one pattern (the data model's `[a-zA-Z_][a-zA-Z0-9_]*`)."""

from __future__ import annotations

import re

#: A label name's pattern, without anchors (to embed in larger patterns).
LABEL_NAME_PATTERN = r"[a-zA-Z_][a-zA-Z0-9_]*"
#: A whole label name.
LABEL_NAME = re.compile(rf"^{LABEL_NAME_PATTERN}$")
#: Help for messages.
HELP = "a label name: letters, digits and '_', not starting with a digit"


def is_label_name(text: str) -> bool:
    return LABEL_NAME.fullmatch(text) is not None
