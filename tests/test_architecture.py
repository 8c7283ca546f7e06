"""The layers' contracts: the pure layers load no Pulumi, and what `pulumi up` loads
(infra/program.py and infra/components) imports none of the offline tooling."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = ("infra.synth", "infra.checks", "infra.diff", "infra.cli")


def _modules(package: str) -> list[str]:
    folder = ROOT.joinpath(*package.split("."))
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in folder.rglob("*.py")
    )


def test_the_pure_layers_load_no_pulumi() -> None:
    pure = [
        *_modules("infra.plan"),
        *_modules("infra.render"),
        *_modules("infra.catalog"),
        *_modules("alerts"),
        *_modules("dashboards"),
        "infra.naming",
        "infra.config",
    ]
    assert "infra.plan.estate" in pure
    assert "infra.render.tracing" in pure
    code = (
        "import importlib, sys\n"
        f"for name in {pure!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"pure layers loaded: {done.stdout.strip()}"


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str) -> set[str]:
    """Every module `module` imports (at any depth of its code, TYPE_CHECKING included)."""
    path = _module_file(module)
    assert path is not None, module
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            found.add(base)
            # `from infra import synth` names a module too.
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _transitive_infra_imports(roots: list[str]) -> dict[str, str]:
    """Each infra module reached from `roots` through infra's own imports -> who imported it."""
    seen: dict[str, str] = dict.fromkeys(roots, "(root)")
    todo = list(roots)
    while todo:
        module = todo.pop()
        for name in _imports(module):
            if not name.startswith("infra") or name in seen or _module_file(name) is None:
                continue
            seen[name] = module
            todo.append(name)
    return seen


def test_what_pulumi_up_loads_imports_no_offline_tooling() -> None:
    roots = ["infra.program", *_modules("infra.components")]
    reached = _transitive_infra_imports(roots)
    assert "infra.naming" in reached
    assert "infra.render.kube_prometheus_stack" in reached
    offline = {m: by for m, by in reached.items() if m.startswith(OFFLINE)}
    assert offline == {}, f"imported by the program: {offline}"


def test_the_import_scan_sees_an_offline_import() -> None:
    # The scan itself: the synth package does reach the checks' modules.
    assert any(m.startswith("infra.synth") for m in _transitive_infra_imports(["infra.cli"]))


def test_the_config_does_not_import_the_plans() -> None:
    reached = _transitive_infra_imports(_modules("infra.config"))
    assert not [m for m in reached if m.startswith("infra.plan")]


def test_renderers_take_plans_not_the_config() -> None:
    """Render functions take plans (issue 11): no module of infra/render imports EstateConfig,
    or the loaders that make one."""
    config_names = {"infra.config.EstateConfig", "infra.config.model.EstateConfig"}
    config_names |= {"infra.config.loader", "infra.config.load_stack_file"}
    offending = {
        module: sorted(_imports(module) & config_names)
        for module in _modules("infra.render")
        if _imports(module) & config_names
    }
    assert offending == {}
    # The scan sees the name where it is imported (the plans do take the config).
    assert "infra.config.model.EstateConfig" in _imports("infra.plan.monitoring")
