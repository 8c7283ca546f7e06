"""Turn a SynthRun into the review artifact out/<stack>/: deterministic bytes, no secrets."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from infra import yamlout
from infra.config.secrets import PLACEHOLDER_PREFIX
from infra.naming import validate_stack_name
from infra.render.grafana import synth_dashboard_files
from infra.synth.engine import SynthRun
from infra.synth.recorder import Registration
from infra.text import canonical_json

#: AWS resource types -> the file under aws/ that holds them.
_AWS_FILES = {
    "aws:cloudwatch/logGroup:LogGroup": "log-groups.json",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "metric-filters.json",
    "aws:cloudwatch/queryDefinition:QueryDefinition": "saved-queries.json",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarms.json",
    "aws:kms/key:Key": "kms.json",
    "aws:kms/alias:Alias": "kms.json",
    "aws:sns/topic:Topic": "sns.json",
    "aws:sns/topicSubscription:TopicSubscription": "sns.json",
    "aws:iam/policy:Policy": "iam.json",
    "aws:iam/role:Role": "iam.json",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "iam.json",
}
#: Inputs that hold a JSON document as a string; shown parsed in the per-area files.
_JSON_STRING_INPUTS = ("policy", "assumeRolePolicy")


class OutputError(Exception):
    """out/<stack> was not written; the message says why. Whatever out/<stack> held before
    is still there, and nothing outside `--out` was touched."""


class SecretLeakError(OutputError):
    """A config secret reached an artifact: some code unwrapped a secret."""


class UnsafePathError(OutputError):
    """A path to be written would not sit inside out/<stack>/ (or out/<stack> is not ours)."""


class OutputBusyError(OutputError):
    """Another run holds out/.<stack>.lock for longer than the wait allows."""


def _area_entry(reg: Registration) -> dict[str, Any]:
    inputs = dict(reg.inputs)
    for key in _JSON_STRING_INPUTS:
        value = inputs.get(key)
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                inputs[key] = json.loads(value)
    return {
        "name": reg.name,
        "type": reg.type,
        "urn": reg.urn,
        "protect": reg.protect,
        "retainOnDelete": reg.retain_on_delete,
        "inputs": inputs,
    }


_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _manifest_name(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    parts = [str(manifest.get("kind", "Object")).lower(), meta.get("namespace"), meta.get("name")]
    return "-".join(str(p) for p in parts if p)


def kubernetes_files(registrations: tuple[Registration, ...]) -> dict[str, str]:
    """helm/<release>.values.yaml, alertmanager/alertmanager.yaml, prometheus/rules/*.yaml,
    kubernetes/*.yaml and grafana/dashboards/*.json, all taken from what the program
    registered (nothing re-rendered)."""
    files: dict[str, str] = {}
    for reg in registrations:
        if not reg.type.startswith("kubernetes:") or not reg.custom:
            continue
        inputs = reg.inputs
        if reg.type == _HELM_RELEASE:
            values = inputs.get("values") or {}
            files[f"helm/{inputs['name']}.values.yaml"] = yamlout.dump(values)
            am_config = (values.get("alertmanager") or {}).get("config")
            if am_config:
                files["alertmanager/alertmanager.yaml"] = yamlout.dump(am_config)
            continue
        if reg.type == _PROMETHEUS_RULE:
            rule_name = inputs["metadata"]["name"]
            files[f"prometheus/rules/{rule_name}.yaml"] = yamlout.dump(
                {"groups": inputs["spec"]["groups"]}
            )
        path = f"kubernetes/{_manifest_name(inputs)}.yaml"
        if path in files:
            raise ValueError(
                f"two resources declare {path.removeprefix('kubernetes/')}: they would collide"
                f" in the cluster (the second is {reg.urn})"
            )
        files[path] = yamlout.dump(inputs)
    for reg in registrations:
        if reg.custom:
            files.update(synth_dashboard_files(reg.type, reg.inputs))
    return files


#: Plain-text secrets shorter than this are not searched for in the output.
MIN_GUARDED_PLAINTEXT = 16


def _forbidden(secrets: Iterable[str]) -> list[str]:
    """What the leak guard searches every file for, besides the placeholder prefix.

    The rule: a secret is searched for only when finding it proves a leak.

    - `secure:` values are never decrypted offline: each becomes a placeholder
      (`[secure-placeholder:<key>]`) that no code writes on purpose, so *any* appearance of
      the placeholder prefix is a leak. This guards every secret of dev, staging and prod.
    - Plain-text secrets exist only in `local` (elsewhere they are refused). One of fewer
      than MIN_GUARDED_PLAINTEXT characters can equal text the estate writes anyway: a
      local password `blue-harvest` is also the project's name and in every resource's URN.
      Finding such a value proves nothing, so it is not searched for; a value of 16 or
      more characters is, as itself and base64-encoded.
    """
    out: list[str] = []
    for value in secrets:
        if value.startswith(PLACEHOLDER_PREFIX):
            out.append(value)
        elif len(value) >= MIN_GUARDED_PLAINTEXT:
            out += [value, base64.b64encode(value.encode()).decode()]
    return out


def render_files(run: SynthRun, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Relative path -> file text for everything `estate synth` writes for one stack.

    Refuses (SecretLeakError) to produce a file holding a config secret's placeholder, or
    any of `secrets` (the config's secret values) that `_forbidden` guards, as text or
    base64. The message names the file, never the value."""
    files: dict[str, str] = {
        "resources.json": canonical_json(
            {"stack": run.stack, "resources": [r.as_dict() for r in run.registrations]}
        )
    }
    aws: dict[str, list[dict[str, Any]]] = {}
    for reg in run.registrations:
        if reg.type.startswith("aws:") and reg.custom:
            name = _AWS_FILES.get(reg.type, f"{reg.type.split(':')[1].split('/')[0]}.json")
            aws.setdefault(name, []).append(_area_entry(reg))
    for name, entries in aws.items():
        files[f"aws/{name}"] = canonical_json(entries)
    files.update(kubernetes_files(run.registrations))
    forbidden = _forbidden(secrets)
    for path, text in files.items():
        if PLACEHOLDER_PREFIX in text or any(value in text for value in forbidden):
            raise SecretLeakError(
                f"a secret reached out/{run.stack}/{path} unwrapped; nothing was written."
                " Pass secrets to resources as pulumi.Output.secret(...)"
            )
    return files


# --- writing out/<stack>/ ---------------------------------------------------------------------
#
# Layout inside --out, for stack S (a name `infra.naming.validate_stack_name` accepts, so
# never empty, never `.`/`..`, never containing `/` or `~`):
#
#   S/              the tree, a real directory
#   .S.lock         the per-stack lock (flock), kept between runs
#   .S~new-<hex>/   a staging directory: the next tree while it is written, the previous
#                   tree after the swap until it is removed
#   .S~aside/       only on filesystems without RENAME_EXCHANGE: the previous tree between
#                   the two renames of the fallback
#
# The swap is renameat2(RENAME_EXCHANGE) of the staging directory and S: one system call
# that exchanges the two names atomically, so S names the complete old tree or the complete
# new one at every instant, and a SIGKILL at any point leaves one of the two. A first run
# (no S yet) is a plain rename(2), atomic too. Filesystems without RENAME_EXCHANGE (or a
# kernel without renameat2) take the fallback: rename S aside, rename the staging dir to S,
# remove the aside copy; a kill between the two renames leaves no S for a moment, and the
# next run (under the lock, before anything else) renames the aside copy back. Leftover
# staging dirs of killed runs are removed by the next run of that stack, under the lock.
# Only processes are covered: without fsync, a power cut may lose the tree's contents
# (out/ is regenerated by running estate synth again).

#: How long a run waits for another run of the same stack to finish writing.
LOCK_TIMEOUT_SECONDS = 60.0
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    # renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange the names `a` and `b`; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    done = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _inside(out: Path, path: Path) -> Path:
    """`path` resolved, if it sits inside `out` (itself resolved); else UnsafePathError."""
    resolved = path.resolve()
    if resolved == out or not resolved.is_relative_to(out):
        raise UnsafePathError(f"refusing to write {path}: it is not inside --out {out}")
    return resolved


def _relative_file(rel: str) -> PurePosixPath:
    parts = rel.split("/")
    if (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or "\x00" in rel
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise UnsafePathError(f"refusing to write {rel!r}: not a plain relative path")
    return PurePosixPath(rel)


@contextlib.contextmanager
def stack_lock(out: Path, stack: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold out/.<stack>.lock (flock, exclusive) for the block; wait at most `timeout`
    seconds for another run to release it, then OutputBusyError."""
    path = _inside(out, out / f".{stack}.lock")
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(path, flags, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusyError(
                        f"{out / stack} is being written by another estate synth (it holds"
                        f" {path}); waited {timeout:.0f}s. Run again when it has finished."
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recover(out: Path, stack: str) -> None:
    """Undo what a killed run left behind (call with the stack's lock held)."""
    target = out / stack
    aside = out / f".{stack}~aside"
    if aside.is_dir() and not aside.is_symlink():
        if os.path.lexists(target):
            shutil.rmtree(aside)  # the fallback's swap had finished
        else:
            os.rename(aside, target)  # killed between its two renames: the old tree returns
    for leftover in out.glob(f".{stack}~new-*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)


def _check_replaceable(target: Path) -> None:
    """Only a tree estate synth wrote (or an empty folder) is ever replaced."""
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise UnsafePathError(
            f"{target} exists and is not a directory estate synth wrote; move it away first"
        )
    if not (target / "resources.json").is_file() and any(target.iterdir()):
        raise UnsafePathError(
            f"{target} exists and holds no resources.json: it is not a tree estate synth"
            " wrote; refusing to replace it (move it away, or choose another --out)"
        )


def _staging(out: Path, stack: str) -> Path:
    while True:
        path = _inside(out, out / f".{stack}~new-{secrets.token_hex(6)}")
        try:
            path.mkdir()  # the umask applies, as for any directory the user creates
        except FileExistsError:
            continue
        return path


def _write_files(staging: Path, files: dict[str, str]) -> None:
    """Each file created exclusively (O_EXCL: never through an existing file or symlink), in
    a folder whose resolved path sits inside the staging folder (checked once per folder)."""
    folders: dict[PurePosixPath, Path] = {}
    for rel, text in sorted(files.items()):
        relative = _relative_file(rel)
        folder = folders.get(relative.parent)
        if folder is None:
            folder = staging / relative.parent
            folder.mkdir(parents=True, exist_ok=True)
            folder = folders[relative.parent] = _inside_or_same(staging, folder)
        with (folder / relative.name).open("x", encoding="utf-8") as handle:
            handle.write(text)


def _inside_or_same(root: Path, path: Path) -> Path:
    resolved = path.resolve()
    if resolved != root.resolve() and not resolved.is_relative_to(root.resolve()):
        raise UnsafePathError(f"refusing to write into {path}: it is not inside {root}")
    return resolved


def _swap(staging: Path, target: Path, out: Path, stack: str) -> None:
    """Put `staging` at `target`; afterwards `staging` holds the previous tree (if any)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif not _exchange(staging, target):
        aside = out / f".{stack}~aside"
        os.rename(target, aside)
        os.rename(staging, target)
        os.rename(aside, staging)


def write_tree(
    out_dir: Path, stack: str, files: dict[str, str], *, lock_timeout: float = LOCK_TIMEOUT_SECONDS
) -> Path:
    """Replace out/<stack>/ with exactly `files`, atomically (see the layout note above):
    whatever happens, out/<stack> is the previous tree or the new one.

    Refuses (OutputError) a stack name that breaks the rule, any path that would not sit
    inside `out_dir`, an out/<stack> that is not a tree estate synth wrote, and waiting
    more than `lock_timeout` seconds for another run of the same stack."""
    try:
        validate_stack_name(stack)
    except ValueError as exc:
        raise UnsafePathError(str(exc)) from None
    for rel in files:
        _relative_file(rel)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir.resolve(strict=True)
        if not out.is_dir():
            raise UnsafePathError(f"--out {out_dir} is not a directory")
        target = out / stack
        if target.parent != out or target.is_symlink():
            raise UnsafePathError(
                f"{target} is a symbolic link or not directly inside --out {out}; refusing"
                " to write through it"
            )
        with stack_lock(out, stack, lock_timeout):
            _recover(out, stack)
            _check_replaceable(target)
            staging = _staging(out, stack)
            try:
                _write_files(staging, files)
                _swap(staging, target, out, stack)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        where = exc.filename or out_dir
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}") from None
    return out_dir / stack


def type_counts(run: SynthRun) -> dict[str, int]:
    return dict(sorted(Counter(r.type for r in run.registrations).items()))
