"""Synthesize a git ref of the repository in a throwaway worktree, with that ref's own code."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from infra.naming import stack_name_problem


class DiffError(RuntimeError):
    """The diff could not be made (a side could not be synthesized, or paging could not be
    computed); the message says which and why. `estate diff` exits 2 on it."""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(repo: Path, ref: str) -> str:
    """The commit a ref names (so the report says exactly what was compared)."""
    return _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")


@contextlib.contextmanager
def checkout(repo: Path, ref: str | None, where: Path) -> Iterator[Path]:
    """The tree to synthesize: `ref` in a detached worktree, or the working tree for None."""
    if ref is None:
        yield repo
        return
    commit = resolve(repo, ref)
    _git(repo, "worktree", "add", "--detach", "--force", str(where), commit)
    try:
        yield where
    finally:
        _git(repo, "worktree", "remove", "--force", str(where))


def synth_tree(
    source: Path, stacks: list[str] | None, out: Path, ref: str | None = None
) -> list[str]:
    """Run `estate synth` of `source`'s own code over its own stacks into `out`.

    `ref` is the git ref `source` is a worktree of (None: the working tree): errors name a
    file as `<ref>:stacks/...`, never the throwaway worktree's path.
    Returns the stacks synthesized. A stack that does not exist at this ref is skipped
    (the comparison then reports it as added or removed)."""
    where = f"{ref}:" if ref is not None else f"{source}/"
    available = sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (source / "stacks").glob("Pulumi.*.yaml")
    )
    for name in available:
        # Checked here, not only by the ref's own code: an older estate (the base ref) may not
        # refuse `Pulumi....yaml`, and would then write (and remove) outside `out`.
        problem = stack_name_problem(name)
        if problem is not None:
            raise DiffError(f"{where}stacks/Pulumi.{name}.yaml: {problem}")
    wanted = [s for s in (stacks or available) if s in available]
    if not wanted:
        return []
    env = {**os.environ, "PYTHONPATH": str(source)}
    cached = _cache_key(source) if ref is not None else None
    for stack in wanted:
        if cached is not None and _from_cache(cached, stack, out):
            continue
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                # Not `-m infra.cli`: older versions of the module have no __main__ block.
                "from infra.cli import app; app()",
                "synth",
                stack,
                "--stacks-dir",
                str(source / "stacks"),
                "--out",
                str(out),
            ],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise DiffError(
                f"estate synth {stack} failed at {ref or source}:\n"
                f"{(done.stderr or done.stdout).strip()}"
            )
        if cached is not None:
            _to_cache(cached, stack, out)
    return wanted


#: Where synthesized commits are kept: $ESTATE_CACHE_DIR, else $XDG_CACHE_HOME/estate, else
#: ~/.cache/estate. A pull request's base is synthesized once, not on every `estate diff`.
CACHE_DIR_ENV = "ESTATE_CACHE_DIR"


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "estate"


@cache
def _environment_key() -> str:
    """What besides a commit's files decides its synth: this Python and every installed
    distribution's version (the synth runs the commit's code with this environment)."""
    found = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    return "\n".join([sys.version, *found])


def _cache_key(worktree: Path) -> str | None:
    """A committed tree's synth is a function of its content (git's tree id) and of the
    environment; None when the tree id cannot be read (nothing is cached then)."""
    try:
        tree = _git(worktree, "rev-parse", "HEAD^{tree}")
    except DiffError:
        return None
    return hashlib.sha256(f"{tree}\n{_environment_key()}".encode()).hexdigest()[:32]


def _from_cache(key: str, stack: str, out: Path) -> bool:
    kept = cache_dir() / "synth" / key / stack
    if not kept.is_dir():
        return False
    shutil.copytree(kept, out / stack)
    return True


def _to_cache(key: str, stack: str, out: Path) -> None:
    """Keep `out/<stack>` for the next diff of the same commit; written to a temporary folder
    and renamed, so a reader never sees half a tree. A cache that cannot be written is
    skipped: it only saves time."""
    target = cache_dir() / "synth" / key / stack
    if target.exists():
        return
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{stack}-", dir=target.parent))
        shutil.copytree(out / stack, staging / stack)
        try:
            (staging / stack).rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
