"""`estate diff`: synthesize two git refs and report what a change does to the estate."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infra.diff.compare import compare_stack
from infra.diff.model import DiffReport
from infra.diff.worktree import DiffError, checkout, resolve, synth_tree
from infra.tools import ToolMissingError
from infra.tools.amtool import AmtoolError, amtool_path

__all__ = ["DiffError", "DiffReport", "diff_refs"]


def diff_refs(repo: Path, base: str, head: str | None, stacks: list[str] | None) -> DiffReport:
    """Synthesize `base` and `head` (None: the working tree) and compare them stack by stack.

    Raises DiffError when the diff cannot be made whole: a side that does not synthesize, or
    paging impact that cannot be computed (amtool missing, too old, or failing)."""
    try:
        # Paging impact needs amtool: a missing or too old one is said before any synth.
        amtool_path()
    except ToolMissingError as err:
        raise DiffError(f"paging impact cannot be computed: {err}") from err
    with (
        tempfile.TemporaryDirectory(prefix="estate-diff-") as tmp,
        checkout(repo, base, Path(tmp) / "base-src") as base_source,
        checkout(repo, head, Path(tmp) / "head-src") as head_source,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        work = Path(tmp)
        # The two sides are independent processes: synthesize them side by side.
        base_job = pool.submit(synth_tree, base_source, stacks, work / "base", base)
        head_job = pool.submit(synth_tree, head_source, stacks, work / "head", head)
        base_stacks, head_stacks = base_job.result(), head_job.result()
        names = sorted(set(base_stacks) | set(head_stacks))
        missing = sorted(set(stacks or []) - set(names))
        if missing:
            raise DiffError(
                f"no stack {', '.join(missing)} at {base} or {head or 'the working tree'}"
            )
        try:
            diffs = tuple(compare_stack(s, work / "base" / s, work / "head" / s) for s in names)
        except (ToolMissingError, AmtoolError) as err:
            raise DiffError(f"paging impact cannot be computed: {_one_line(err)}") from err
        head_label = resolve(repo, head) if head else "working tree"
        return DiffReport(base=resolve(repo, base), head=head_label, stacks=diffs)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
