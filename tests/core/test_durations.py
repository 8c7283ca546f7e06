"""The one duration parser (infra/core/durations.py) agrees with Prometheus's own, promtool's
`for:` field, on thousands of generated strings, and reads the values it accepts as
Prometheus does."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from infra.core.durations import (
    DurationError,
    format_seconds,
    is_duration,
    milliseconds,
    seconds,
)
from infra.tools import tool_path

UNITS = ("y", "w", "d", "h", "m", "s", "ms")
NEAR_MISSES = ("", "0", " ", "-1s", "1.5h", "1us", "1µs", "h", "5M", "1e3s", "+5m", "ms")


def _number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.8:
        return str(rng.randint(0, 120))
    if kind < 0.9:
        return f"0{rng.randint(0, 99)}"
    return str(rng.randint(10**15, 10**22))  # past Go's time.Duration in any unit above ms


def generated(count: int, seed: int = 20261208) -> list[str]:
    """`count` strings of one to four parts, each a number and a unit (in any order, so that
    most break the largest-first rule) or a near miss; the same ones on every run."""
    rng = random.Random(seed)

    def part() -> str:
        if rng.random() < 0.85:
            return _number(rng) + rng.choice(UNITS)
        return rng.choice(NEAR_MISSES)

    texts = []
    for _ in range(count):
        units = rng.randint(1, 4)
        if rng.random() < 0.3:  # a well-formed one: units largest first, each once
            chosen = sorted(rng.sample(range(len(UNITS)), units))
            texts.append("".join(_number(rng) + UNITS[i] for i in chosen))
        else:
            texts.append("".join(part() for _ in range(units)))
    return texts


def _promtool_accepts(texts: list[str], folder: Path) -> list[bool]:
    """promtool's verdict on each text as an alerting rule's `for`, in one run over one file
    per text (promtool checks every file it is given and says SUCCESS for each it accepts)."""
    files = []
    for i, text in enumerate(texts):
        path = folder / f"d{i:05d}.yaml"
        path.write_text(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n"
            f"    for: {json.dumps(text)}\n",
            encoding="utf-8",
        )
        files.append(path)
    done = subprocess.run(
        [tool_path("promtool"), "check", "rules", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    verdicts: dict[str, bool] = {}
    for block in done.stdout.split("Checking ")[1:]:
        name, _, rest = block.partition("\n")
        verdicts[Path(name.strip()).name] = "SUCCESS" in rest
    assert len(verdicts) == len(files), done.stdout[-2000:] + done.stderr[-2000:]
    return [verdicts[p.name] for p in files]


def test_the_parser_agrees_with_promtool_on_generated_strings(tmp_path: Path) -> None:
    texts = generated(3000)
    verdicts = _promtool_accepts(texts, tmp_path)
    ours = [is_duration(t) for t in texts]
    disagree = [(t, p) for t, o, p in zip(texts, ours, verdicts, strict=True) if o != p]
    assert disagree == []
    # The generated strings hold both kinds, in numbers.
    assert sum(ours) > 300
    assert len(ours) - sum(ours) > 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("30s", 30_000),
        ("1h30m", 5_400_000),
        ("520w", 520 * 7 * 86400 * 1000),
        ("1y2w3d4h5m6s7ms", ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7),
        ("90m", 5_400_000),
    ],
)
def test_accepted_durations_read_as_prometheus_reads_them(text: str, expected: int) -> None:
    assert milliseconds(text) == expected
    assert seconds(text) == expected / 1000


@pytest.mark.parametrize(
    "text", ["", "30s5m", "1m1h", "99999999999999999999999h", "10s1m", "5", "1.5h", " 5m", "5m "]
)
def test_refused_durations_say_what_is_allowed(text: str) -> None:
    with pytest.raises(DurationError, match=r"duration|out of range"):
        milliseconds(text)


@pytest.mark.parametrize("value", [0, 1, 59, 60, 90, 3600, 5400, 86400 * 8 + 1])
def test_formatted_seconds_read_back_the_same(value: int) -> None:
    assert seconds(format_seconds(value)) == value
