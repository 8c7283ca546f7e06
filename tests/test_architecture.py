"""The layers' contracts: the pure layers load no Pulumi, and what `pulumi up` loads
(infra/program.py and infra/components) imports none of the offline tooling."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
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
        *_modules("infra.rules"),
        *_modules("infra.core"),
        "infra.estate",
        "infra.review.route_match",
        "infra.review.policies",
        *_modules("alerts"),
        *_modules("dashboards"),
        "infra.naming",
        "infra.config",
    ]
    assert "infra.estate" in pure
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


def _statements(module: str, source: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names imported from it) for every import in `module`'s code (or
    `source`), at any depth, TYPE_CHECKING included; relative imports resolved."""
    path = _module_file(module)
    assert path is not None, module
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    text = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            yield base, [alias.name for alias in node.names]


def _imports(module: str) -> set[str]:
    """Every name `module` imports: the modules, and `module.name` for what it takes from
    them (`from infra import synth` names a module too)."""
    found: set[str] = set()
    for base, names in _statements(module):
        found.add(base)
        found |= {f"{base}.{name}" for name in names}
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


# --- The packages' layers: every import, everywhere, points down ---------------------------

#: The project's packages from the top layer to the bottom one. A package imports only from
#: the rows below its own: never from its row (checks and diff never import each other) nor
#: from a row above, so no two packages can import each other, directly or around a circle.
#: Every import counts: at module level, inside functions, under TYPE_CHECKING. Nothing
#: imports `tests`. docs/architecture.md shows this table (test below).
LAYERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("benchmarks", "measurements of the tool and of the estate's rules"),),
    (("infra.cli", "the `estate` command"),),
    (("infra.checks", "estate check"), ("infra.diff", "estate diff")),
    (("infra.synth", "the mock engine, the out/ tree, the summary"),),
    (
        ("infra.program", "register() and main(): the Pulumi program"),
        ("policy", "the CrossGuard pack's entry"),
    ),
    (
        ("infra.components", "ComponentResources (Pulumi)"),
        ("infra.review", "route simulation, the policy table: synth, check, diff, the pack"),
    ),
    (("infra.estate", "plan(config) -> EstatePlan, and its validation (no Pulumi)"),),
    (("infra.render", "plans -> plain documents"),),
    (("infra.plan", "one plan per capability"),),
    (("dashboards", "dashboards as code"),),
    (("alerts", "alert and recording rules as code"),),
    (("infra.catalog", "dashboard identities, the metrics catalog"),),
    (("infra.rules", "the rule model and plain rule files"),),
    (("infra.config", "EstateConfig and its loaders"),),
    (("infra.naming", "shared names"), ("harness", "live servers for e2e tests and benchmarks")),
    (
        ("infra.text", "canonical JSON, PromQL numbers, code spans"),
        ("infra.yamlout", "deterministic YAML"),
        ("infra.tools", "the Prometheus tools"),
    ),
    (("infra.core", "durations, label names, environment policy"),),
)  # fmt: skip
_ROOTS = ("infra", "alerts", "dashboards", "harness", "policy", "benchmarks")


def _layer_of() -> dict[str, int]:
    return {name: depth for depth, row in enumerate(LAYERS) for name, _ in row}


def _unit(module: str) -> str | None:
    """The LAYERS package `module` belongs to (the longest matching name)."""
    matches = [u for u in _layer_of() if module == u or module.startswith(f"{u}.")]
    return max(matches, key=len) if matches else None


def _all_modules() -> list[str]:
    """Every module of the project's packages (the bare `infra` package holds no code)."""
    return [m for root in _ROOTS for m in _modules(root) if m != "infra"]


def _targets(module: str, source: str) -> set[str]:
    """The project modules `source` (module `module`'s code) imports, anywhere in it."""
    found: set[str] = set()
    for base, names in _statements(module, source):
        if not names:
            found.add(base)
        for name in names:
            # `from infra import text` imports the module infra.text.
            sub = f"{base}.{name}"
            found.add(sub if _module_file(sub) is not None else base)
    return {t for t in found if t.split(".")[0] in (*_ROOTS, "tests")}


def _upward_imports(extra: dict[str, str] | None = None) -> list[str]:
    """Every import that does not point to a lower layer, as 'a -> b (module -> target)'.
    `extra` adds source text to a module (the test that the check can fail)."""
    layer = _layer_of()
    problems: list[str] = []
    for module in _all_modules():
        path = _module_file(module)
        assert path is not None, module
        source = path.read_text(encoding="utf-8") + "\n" + (extra or {}).get(module, "")
        unit = _unit(module)
        if unit is None:
            problems.append(f"{module}: in no row of LAYERS")
            continue
        for target in sorted(_targets(module, source)):
            if target.split(".")[0] == "tests":
                problems.append(f"{unit} -> tests ({module} -> {target}): nothing imports tests")
                continue
            other = _unit(target)
            if other is None:
                problems.append(f"{module} -> {target}: {target} is in no row of LAYERS")
            elif other != unit and layer[other] <= layer[unit]:
                problems.append(f"{unit} -> {other} ({module} -> {target})")
    return problems


def test_every_import_of_every_package_points_to_a_lower_layer() -> None:
    assert _upward_imports() == []


def test_an_import_against_the_layers_is_found_wherever_it_is_written() -> None:
    """A function-level import in alerts of an offline module, and checks importing diff
    (two packages of one row), are both refused."""
    problems = _upward_imports(
        {
            "alerts.recording": "def _late() -> None:\n    import infra.review.route_match\n",
            "infra.checks.runner": "from infra.diff import report\n",
            "benchmarks.run": "from tests.conftest import STACKS\n",
        }
    )
    assert sorted(problems) == [
        "alerts -> infra.review (alerts.recording -> infra.review.route_match)",
        "benchmarks -> tests (benchmarks.run -> tests.conftest): nothing imports tests",
        "infra.checks -> infra.diff (infra.checks.runner -> infra.diff.report)",
    ]


def layers_markdown() -> str:
    """LAYERS as docs/architecture.md shows it."""
    lines = [
        "| layer | package | what it holds |",
        "| ---: | --- | --- |",
    ]
    for depth, row in enumerate(LAYERS):
        for name, what in row:
            path = name.replace(".", "/") + (
                "/"
                if _module_file(name + ".__init__") or (ROOT / name.replace(".", "/")).is_dir()
                else ".py"
            )
            lines.append(f"| {len(LAYERS) - depth} | `{path}` | {what} |")
    return "\n".join(lines) + "\n"


def test_the_architecture_doc_shows_the_layers_the_test_enforces() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert layers_markdown() in doc, layers_markdown()
