"""Property: whatever a stack file holds and whatever it is called, `estate synth` ends with
exit 0, or exit 2 and a message on stderr; never a traceback or another exit code, and never
a change to anything outside `--out`.

The examples are the four real stack files, mutated: keys deleted, scalars swapped for other
types and odd values, junk bytes inserted, lines duplicated (duplicate keys), values nested
deep, values aliased, the file truncated, the file renamed to odd names. The bulk run
in-process through the same typer app the console script runs (`infra.cli.app`); a smaller
sample runs the real console entry (`python -m infra.cli`) in a subprocess.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infra.cli import app
from infra.config import stack_yaml
from tests.conftest import ROOT, STACK_NAMES, STACKS

pytestmark = pytest.mark.slow

settings.register_profile(
    "estate-stack-files",
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("estate-stack-files")

BASES = {name: (STACKS / f"Pulumi.{name}.yaml").read_text() for name in STACK_NAMES}

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**30,
    1.5,
    -0.0,
    "",
    " ",
    "x" * 300,
    "../../etc/passwd",
    "/abs/path",
    "[red]markup[/red] :bomb:",
    "a\x00b",
    "line\nbreak",
    "\u202eevil",
    "secure:",
    "v1:AAAA",
    "https://user:pw@host/",
    "2024-02-29",
    [],
    {},
    [1, [2, [3]]],
    {"secure": "v1:abc"},
    {"secure": 5},
    {"nested": {"deep": [None]}},
]

ODD_FILE_NAMES = [
    "Pulumi....yaml",
    "Pulumi..yaml",
    "Pulumi...yaml",
    "Pulumi. .yaml",
    "Pulumi.-x.yaml",
    "Pulumi._.yaml",
    "Pulumi.a b.yaml",
    "Pulumi.\u00fc.yaml",
    "Pulumi.PROD.yaml",
    "Pulumi.prod.eu-west-1.yaml",
    "Pulumi.local.eu-west-1.yaml",
    "Pulumi.x;rm -rf.yaml",
    "Pulumi.$(id).yaml",
    "Pulumi.[red]x.yaml",
    f"Pulumi.{'a' * 101}.yaml",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a document of dicts and lists."""
    found: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def _structural(draw: st.DrawFn, doc: Any) -> Any:
    """One mutation of the parsed document, in place; returns the (maybe new) document."""
    paths = _paths(doc)
    kind = draw(
        st.sampled_from(
            ["delete", "replace", "tweak", "tweak", "nest", "alias", "rename-key", "top-level"]
        )
    )
    if not paths or kind == "top-level":
        tops = [None, [], "config", {"config": None}, {"config": []}, doc]
        return copy.deepcopy(draw(st.sampled_from(tops)))
    path = draw(st.sampled_from(paths))
    parent = _parent(doc, path)
    key = path[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        value = draw(
            st.one_of(
                st.sampled_from(ODD_VALUES),
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.text(max_size=40),
            )
        )
        parent[key] = copy.deepcopy(value)  # later mutations must not change ODD_VALUES
    elif kind == "tweak":  # a value of the same type: often still valid, often unusual
        value = parent[key]
        if isinstance(value, bool):
            parent[key] = not value
        elif isinstance(value, int):
            parent[key] = draw(st.integers(-2, 100_000))
        elif isinstance(value, str):
            parent[key] = value + draw(st.sampled_from(["", "0", "-x", ".", "/", " ", "Z"]))
    elif kind == "nest":
        value = parent[key]
        for _ in range(draw(st.integers(1, 40))):
            value = [value]
        parent[key] = value
    elif kind == "alias":
        other = draw(st.sampled_from(paths))
        if other[: len(path)] != path and path[: len(other)] != other:  # no cycles
            parent[key] = _parent(doc, other)[other[-1]]  # the same object: dumped as an alias
    elif kind == "rename-key" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["", "x", "blue-harvest:", ":", "a:b:c", "<<", "~"]))] = (
            parent.pop(key)
        )
    return doc


@st.composite
def _textual(draw: st.DrawFn, text: bytes) -> bytes:
    """One mutation of the file's bytes."""
    kind = draw(st.sampled_from(["junk", "duplicate-line", "truncate", "replace-byte"]))
    at = draw(st.integers(0, len(text)))
    if kind == "junk":
        junk = draw(
            st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from(
                    [b"\xff", b"\xfe\xff", b"\x00", b"&a ", b"*a", b"<<: ", b"? ", b"!!", b"\t"]
                ),
                st.sampled_from([b"[" * 600, b"{" * 100, b".inf", b".nan", b"---\n", b"%YAML"]),
            )
        )
        return text[:at] + junk + text[at:]
    if kind == "duplicate-line":
        lines = text.split(b"\n")
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "truncate":
        return text[:at]
    if not text:
        return text
    i = min(at, len(text) - 1)
    return text[:i] + bytes([draw(st.integers(0, 255))]) + text[i + 1 :]


@dataclass(frozen=True)
class Example:
    file_name: str
    content: bytes
    args_for: Callable[[str, str], list[str]]


@st.composite
def stack_files(draw: st.DrawFn) -> Example:
    base = draw(st.sampled_from(STACK_NAMES))
    text = BASES[base]
    content = text.encode()
    # Every example is mutated at least one way: the unmutated files are other tests' business.
    mutations = draw(
        st.sampled_from(
            [{"structure"}, {"text"}, {"structure", "text"}, {"name"}, {"name", "structure"}]
        )
    )
    if "structure" in mutations:
        doc = stack_yaml.load(content)
        for _ in range(draw(st.integers(1, 3))):
            doc = draw(_structural(doc))
        content = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    if "text" in mutations:
        for _ in range(draw(st.integers(1, 2))):
            content = draw(_textual(content))
    file_name = f"Pulumi.{base}.yaml"
    if "name" in mutations:
        file_name = draw(st.sampled_from(ODD_FILE_NAMES))
    all_stacks = draw(st.booleans())

    def args_for(stacks: str, out: str) -> list[str]:
        which = ["--all"] if all_stacks else [base]
        return ["synth", *which, "--stacks-dir", stacks, "--out", out]

    return Example(file_name, content, args_for)


def _snapshot(root: Path, skip: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if not p.is_relative_to(skip)
    }


def _scratch(root: Path, example: Example) -> tuple[Path, Path]:
    """root/{sentinel, work/{sentinel, stacks/<file>, out/}}: --out is work/out, so `out/..`
    is the working folder and `out/../..` the scratch root."""
    work = root / "work"
    stacks = work / "stacks"
    stacks.mkdir(parents=True)
    (root / "sentinel").write_text("outside")
    (work / "sentinel").write_text("beside out")
    (stacks / example.file_name).write_bytes(example.content)
    return stacks, work / "out"


def _check_outcome(code: int, stdout: str, stderr: str, root: Path, out: Path) -> None:
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert code in (0, 2), f"exit {code}: {stdout}{stderr}"
    if code == 2:
        assert stderr.strip(), "exit 2 without a message"
    if out.exists():
        for entry in out.iterdir():  # only trees and their locks: no staging leftovers
            assert "~" not in entry.name, entry.name


_RUNNER = CliRunner()


#: 400 generated stack files per run (the same ones every run: derandomized); set
#: ESTATE_PROPERTY_EXAMPLES for a deeper run (the suite's time budget is benchmarks/README.md's).
EXAMPLES = int(os.environ.get("ESTATE_PROPERTY_EXAMPLES", "400"))


@settings(parent=PROFILE, max_examples=EXAMPLES)
@given(example=stack_files())
def test_every_mutated_stack_file_ends_in_exit_0_or_2_and_touches_only_out(
    example: Example,
) -> None:
    with tempfile.TemporaryDirectory(prefix="estate-prop-") as tmp:
        root = Path(tmp)
        stacks, out = _scratch(root, example)
        before = _snapshot(root, out)
        result = _RUNNER.invoke(app, example.args_for(str(stacks), str(out)))
        event(f"exit {result.exit_code}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"uncaught {result.exception!r}") from result.exception
        _check_outcome(result.exit_code, result.stdout, result.stderr, root, out)
        assert _snapshot(root, out) == before


@settings(parent=PROFILE, max_examples=15)
@given(example=stack_files())
def test_the_real_console_entry_agrees(example: Example) -> None:
    with tempfile.TemporaryDirectory(prefix="estate-prop-") as tmp:
        root = Path(tmp)
        stacks, out = _scratch(root, example)
        before = _snapshot(root, out)
        done = subprocess.run(
            [sys.executable, "-m", "infra.cli", *example.args_for(str(stacks), str(out))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            timeout=120,
        )
        _check_outcome(done.returncode, done.stdout, done.stderr, root, out)
        assert _snapshot(root, out) == before
