"""write_tree: out/<stack> is always the old tree or the new one, never anything else, and
nothing outside --out is ever touched."""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.synth import writer
from infra.synth.writer import (
    OutputBusyError,
    OutputError,
    UnsafePathError,
    stack_lock,
    write_tree,
)
from tests.conftest import ROOT, STACKS

OLD = {"resources.json": "{}\n", "aws/a.json": "old a\n", "aws/gone.json": "only old\n"}
NEW = {"resources.json": "{ }\n", "aws/a.json": "new a\n", "kubernetes/b.yaml": "b: 1\n"}


def tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_write_replaces_the_tree_and_leaves_only_the_tree_and_its_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    assert tree(out / "prod") == OLD
    write_tree(out, "prod", NEW)
    assert tree(out / "prod") == NEW
    assert sorted(p.name for p in out.iterdir()) == [".prod.lock", "prod"]
    assert (out / "prod").is_dir()
    assert not (out / "prod").is_symlink()


def test_a_dotted_stack_name_is_one_folder(tmp_path: Path) -> None:
    write_tree(tmp_path, "prod.eu-west-1", NEW)
    assert tree(tmp_path / "prod.eu-west-1") == NEW


@pytest.mark.parametrize("stack", ["..", ".", "", "a/b", "../x", ".hidden", "x\n"])
def test_a_bad_stack_name_touches_nothing(tmp_path: Path, stack: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "sentinel").write_text("keep")
    before = listing(tmp_path)
    with pytest.raises(UnsafePathError, match="stack name"):
        write_tree(out, stack, NEW)
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    "rel", ["../escape.json", "/etc/x", "a/../../b", "a//b", "./a", "a\\b", "", "a\x00b"]
)
def test_a_file_path_that_would_leave_the_tree_is_refused_before_writing(
    tmp_path: Path, rel: str
) -> None:
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    before = listing(tmp_path)
    with pytest.raises(UnsafePathError, match="not a plain relative path"):
        write_tree(out, "prod", {**NEW, rel: "x"})
    assert listing(tmp_path) == before
    assert tree(out / "prod") == OLD


def test_a_symlinked_stack_folder_is_never_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "resources.json").write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / "prod").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        write_tree(out, "prod", NEW)
    assert tree(elsewhere) == {"resources.json": "mine"}


def test_a_folder_estate_synth_did_not_write_is_not_replaced(tmp_path: Path) -> None:
    """`--out .` with a stack called `infra` must not replace the source folder."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "code.py").write_text("print()")
    with pytest.raises(UnsafePathError, match="not a tree estate synth"):
        write_tree(tmp_path, "infra", NEW)
    assert tree(tmp_path / "infra") == {"code.py": "print()"}


def test_a_planted_lock_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".prod.lock").symlink_to(target)
    with pytest.raises(UnsafePathError, match="not inside --out"):
        write_tree(out, "prod", NEW)
    assert target.read_text() == "keep"


def test_an_out_path_that_is_a_file_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError, match="cannot write"):
        write_tree(tmp_path / "out", "prod", NEW)


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    (out / ".prod~new-0123456789ab" / "aws").mkdir(parents=True)
    (out / ".prod~new-0123456789ab" / "aws" / "half.json").write_text("{")
    (out / ".prod.eu~new-0123456789ab").mkdir()  # another stack's: not ours to remove
    write_tree(out, "prod", NEW)
    assert sorted(p.name for p in out.iterdir()) == [
        ".prod.eu~new-0123456789ab",
        ".prod.lock",
        "prod",
    ]


def test_the_swap_here_is_one_atomic_exchange(tmp_path: Path) -> None:
    """On Linux (CI, and wherever the SIGKILL test below runs) the swap is a single
    renameat2(RENAME_EXCHANGE), not the fallback."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from-a").write_text("a")
    (tmp_path / "b").mkdir()
    assert writer._exchange(tmp_path / "a", tmp_path / "b")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from-a"]
    assert list((tmp_path / "a").iterdir()) == []


def test_the_fallback_swap_is_recovered_when_killed_between_its_renames(tmp_path: Path) -> None:
    """Without RENAME_EXCHANGE the swap is two renames; killed between them, out/prod is
    missing and the old tree sits in .prod~aside: the next run puts it back first."""
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    (out / "prod").rename(out / ".prod~aside")
    with stack_lock(out.resolve(), "prod"):
        writer._recover(out.resolve(), "prod")
    assert tree(out / "prod") == OLD


def test_the_fallback_swap_gives_the_same_result(tmp_path: Path) -> None:
    """The rename-aside path, taken where renameat2 is missing, ends in the new tree too."""
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    saved = writer._RENAMEAT2
    writer._RENAMEAT2 = None
    try:
        write_tree(out, "prod", NEW)
    finally:
        writer._RENAMEAT2 = saved
    assert tree(out / "prod") == NEW
    assert sorted(p.name for p in out.iterdir()) == [".prod.lock", "prod"]


def test_a_second_writer_waits_for_the_lock_then_fails_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, "prod", OLD)
    with stack_lock(out.resolve(), "prod"):
        start = time.monotonic()
        with pytest.raises(OutputBusyError) as caught:
            write_tree(out, "prod", NEW, lock_timeout=0.3)
        assert time.monotonic() - start >= 0.3
    assert "is being written by another estate synth" in str(caught.value)
    assert tree(out / "prod") == OLD
    write_tree(out, "prod", NEW, lock_timeout=0.3)  # released: the next run proceeds
    assert tree(out / "prod") == NEW


# --- the real CLI, killed and raced -------------------------------------------------------------


def _stack_versions(tmp_path: Path) -> tuple[Path, Path]:
    """Two versions of the local stack whose synth trees differ."""
    old = tmp_path / "stacks-old"
    new = tmp_path / "stacks-new"
    for folder in (old, new):
        folder.mkdir()
    text = (STACKS / "Pulumi.local.yaml").read_text()
    assert "1.42.0" in text
    (old / "Pulumi.local.yaml").write_text(text)
    (new / "Pulumi.local.yaml").write_text(text.replace("1.42.0", "1.43.0"))
    return old, new


def _estate(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.cli", *args]


def _synth(stacks: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _estate("synth", "local", "--stacks-dir", str(stacks), "--out", str(out)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
def test_sigkill_at_random_instants_leaves_the_old_tree_or_the_new_one(tmp_path: Path) -> None:
    """24 runs of `estate synth local`, each SIGKILLed at a random instant. Half are killed
    at a random time since start, half at a random time after their staging folder appears
    (so the kill lands while files are written or swapped). After every kill out/local is
    byte for byte the tree before the run or the tree the run was writing."""
    versions = _stack_versions(tmp_path)
    refs = []
    for i, stacks in enumerate(versions):
        done = _synth(stacks, tmp_path / f"ref{i}")
        assert done.returncode == 0, done.stderr
        refs.append(tree(tmp_path / f"ref{i}" / "local"))
    assert refs[0] != refs[1]
    out = tmp_path / "out"
    assert _synth(versions[0], out).returncode == 0
    current = 0
    rng = random.Random(20261201)
    started = time.monotonic()
    assert _synth(versions[1], tmp_path / "timing").returncode == 0
    full_run = time.monotonic() - started
    outcomes = {"old": 0, "new": 0, "killed while writing or swapping": 0}
    for attempt in range(24):
        target = 1 - current
        earlier = set(os.listdir(out))  # a killed run's leftover staging folder is not this one's
        child = subprocess.Popen(
            _estate("synth", "local", "--stacks-dir", str(versions[target]), "--out", str(out)),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if attempt % 2 == 0:
            time.sleep(rng.uniform(0, full_run * 1.1))
        else:
            deadline = time.monotonic() + 60
            while child.poll() is None and time.monotonic() < deadline:
                if any(n.startswith(".local~new-") for n in set(os.listdir(out)) - earlier):
                    break
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, 0.08))  # writing, swapping, removing the old tree
        child.send_signal(signal.SIGKILL)
        child.wait()
        found = tree(out / "local")
        assert found in (refs[current], refs[target]), f"attempt {attempt}: a mixed tree"
        if any(n.startswith(".local~new-") for n in set(os.listdir(out)) - earlier):
            outcomes["killed while writing or swapping"] += 1
        if found == refs[target]:
            outcomes["new"] += 1
            current = target
        else:
            outcomes["old"] += 1
    # Both outcomes happened, and kills landed while a staging folder existed: the kills
    # really hit before, during and after the swap.
    assert all(outcomes.values()), outcomes
    # The next run cleans up whatever the killed ones left.
    assert _synth(versions[0], out).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [".local.lock", "local"]
    assert tree(out / "local") == refs[0]


def test_two_concurrent_runs_of_one_stack_both_succeed_one_after_the_other(
    tmp_path: Path,
) -> None:
    stacks, _ = _stack_versions(tmp_path)
    out = tmp_path / "out"
    ref = _synth(stacks, tmp_path / "ref")
    assert ref.returncode == 0
    command = _estate("synth", "local", "--stacks-dir", str(stacks), "--out", str(out))
    children = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [child.communicate(timeout=120) for child in children]
    for child, (_, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
    assert tree(out / "local") == tree(tmp_path / "ref" / "local")
    assert sorted(p.name for p in out.iterdir()) == [".local.lock", "local"]


def test_a_run_waits_while_another_holds_the_stack_lock(tmp_path: Path) -> None:
    stacks, _ = _stack_versions(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / ".local.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    release = threading.Timer(2.0, lambda: os.close(fd))
    release.start()
    try:
        started = time.monotonic()
        done = _synth(stacks, out)
        waited = time.monotonic() - started
    finally:
        release.join()
    assert done.returncode == 0, done.stderr
    assert waited >= 2.0
    assert (out / "local" / "resources.json").is_file()


def test_nothing_outside_out_is_touched_by_a_synth(tmp_path: Path) -> None:
    stacks, _ = _stack_versions(tmp_path)
    (tmp_path / "sentinel").write_text("keep")
    shutil.copy(stacks / "Pulumi.local.yaml", tmp_path / "copy.yaml")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert _synth(stacks, tmp_path / "out").returncode == 0
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if not p.is_relative_to(tmp_path / "out")} == before
