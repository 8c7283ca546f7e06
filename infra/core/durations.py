"""Durations as Prometheus and Alertmanager read them: the one parser of the project.

The grammar is prometheus/common's `model.ParseDuration`, which promtool, Prometheus and
Alertmanager use for every `for`, interval, retention and group timing: a whole number and a
unit, for each of the units y, w, d, h, m, s, ms at most once and largest first (`1h30m` yes,
`30s5m` and `1m1h` no), or `0` alone; nothing else (no spaces, signs, fractions or `µs`). A
duration beyond Go's time.Duration (about 292 years) is out of range. The property test
(tests/core/test_durations.py) compares this parser with promtool on generated strings.
"""

from __future__ import annotations

import re

#: What a duration is, for messages: what the config and the rules say when one is refused.
HELP = "a Prometheus duration such as 30s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)"

_GRAMMAR = re.compile(
    r"(?:(?P<y>[0-9]+)y)?(?:(?P<w>[0-9]+)w)?(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?"
    r"(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?(?:(?P<ms>[0-9]+)ms)?"
)
#: Each unit in milliseconds.
_MS = {
    "y": 365 * 24 * 3600 * 1000, "w": 7 * 24 * 3600 * 1000, "d": 24 * 3600 * 1000,
    "h": 3600 * 1000, "m": 60 * 1000, "s": 1000, "ms": 1,
}  # fmt: skip
#: Go's time.Duration: int64 nanoseconds.
_MAX_NS = 2**63 - 1


class DurationError(ValueError):
    """Not a duration Prometheus accepts; the message says which value and what is allowed."""


def milliseconds(text: str) -> int:
    """The duration in milliseconds; DurationError when Prometheus would refuse it."""
    if text == "0":
        return 0
    match = _GRAMMAR.fullmatch(text) if text else None
    if match is None:
        raise DurationError(f"{text!r} is not {HELP}")
    total = sum(int(n) * _MS[unit] for unit, n in match.groupdict().items() if n is not None)
    if total * 1_000_000 > _MAX_NS:
        raise DurationError(f"{text!r} is out of range: at most about 292 years")
    return total


def seconds(text: str) -> float:
    """The duration in seconds (`1h30m` -> 5400.0); DurationError when it is not one."""
    return milliseconds(text) / 1000


def is_duration(text: str) -> bool:
    try:
        milliseconds(text)
    except DurationError:
        return False
    return True


def format_seconds(value: int) -> str:
    """Whole seconds as the shortest duration Prometheus reads back the same (3600 -> `1h`,
    5400 -> `1h30m`, 0 -> `0s`)."""
    if value < 0:
        raise DurationError(f"{value} is negative: a duration is not")
    if value == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("y", "w", "d", "h", "m", "s"):
        size = _MS[unit] // 1000
        count, value = divmod(value, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
