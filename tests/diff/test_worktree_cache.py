"""estate diff keeps a synthesized commit (infra/diff/worktree.py): the same commit is not
synthesized twice, and the cache never stands in for other files or the working tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.diff.worktree import checkout, synth_tree
from tests.diff.test_diff import _git, make_repo

pytestmark = pytest.mark.slow


def _files(tree: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()
    }


def test_a_commit_is_synthesized_once_and_read_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESTATE_CACHE_DIR", str(tmp_path / "cache"))
    repo = make_repo(tmp_path)
    with checkout(repo, "HEAD", tmp_path / "first") as source:
        assert synth_tree(source, ["dev"], tmp_path / "out1", "HEAD") == ["dev"]
    assert len(list((tmp_path / "cache" / "synth").glob("*/dev"))) == 1

    def no_synth(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise AssertionError("synthesized again")

    with checkout(repo, "HEAD", tmp_path / "second") as source:
        monkeypatch.setattr(subprocess, "run", _only_git(no_synth))
        assert synth_tree(source, ["dev"], tmp_path / "out2", "HEAD") == ["dev"]
    assert _files(tmp_path / "out2" / "dev") == _files(tmp_path / "out1" / "dev")


def _only_git(refuse: object) -> object:
    real = subprocess.run

    def run(args: list[str], **kwargs: object) -> object:
        if args and args[0] == "git":
            return real(args, **kwargs)  # type: ignore[call-overload]
        return refuse(args, **kwargs)  # type: ignore[operator]

    return run


def test_another_commit_or_the_working_tree_is_synthesized_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESTATE_CACHE_DIR", str(tmp_path / "cache"))
    repo = make_repo(tmp_path)
    with checkout(repo, "HEAD", tmp_path / "base") as source:
        synth_tree(source, ["dev"], tmp_path / "out1", "HEAD")
    stack = repo / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(
        stack.read_text().replace(
            "  blue-harvest:logs:\n", "  blue-harvest:logs:\n    retentionDays: 60\n"
        )
    )
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qam", "more")
    with checkout(repo, "HEAD", tmp_path / "head") as source:
        synth_tree(source, ["dev"], tmp_path / "out2", "HEAD")
    assert len(list((tmp_path / "cache" / "synth").glob("*/dev"))) == 2
    assert _files(tmp_path / "out1" / "dev") != _files(tmp_path / "out2" / "dev")
    # The working tree (ref None) is never cached: it may hold uncommitted changes.
    synth_tree(repo, ["dev"], tmp_path / "out3", None)
    assert len(list((tmp_path / "cache" / "synth").glob("*/dev"))) == 2
