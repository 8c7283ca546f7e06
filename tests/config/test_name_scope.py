"""The stack's name scopes account-wide names (EstateConfig.stack, .name_scope).

The loader passes the stack's name (offline from the file name, under `pulumi up` from
pulumi.get_stack()); no stack file can set it. A stack named after its environment keeps the
names it always had.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import ConfigError, load_from_pulumi, load_stack_file
from infra.plan.logs import logs_plan
from tests.config.test_engine_loader import _engine_view, _under_engine
from tests.conftest import STACKS, make_config


def _prod_as(tmp_path: Path, stack: str, **logs: str) -> Path:
    doc = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())
    doc["config"]["blue-harvest:logs"].update(logs)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_a_stack_named_after_its_environment_is_scoped_by_it() -> None:
    config = make_config("staging")  # built as the stack `staging`
    assert (config.stack, config.name_scope) == ("staging", "staging")
    assert config.logs.group_prefix == "/blue-harvest"
    assert config.model_copy(update={"stack": None}).name_scope == "staging"


@pytest.mark.parametrize(
    ("stack", "scope"), [("prod-eu", "prod-eu"), ("prod.eu-west-1", "prod-eu-west-1")]
)
def test_another_stack_of_prod_gets_its_own_scope_prefix_and_namespace(
    tmp_path: Path, stack: str, scope: str
) -> None:
    config = load_stack_file(_prod_as(tmp_path, stack), stack)
    assert config.environment == "prod"
    assert (config.stack, config.name_scope) == (stack, scope)
    assert config.logs.group_prefix == f"/blue-harvest/{scope}"
    assert config.metric_namespace == f"BlueHarvest/{scope}"
    plan = logs_plan(config)
    assert plan is not None
    assert plan.group_prefix == f"/blue-harvest/{scope}"
    assert [a.name for a in plan.spec.alarms][:1] == [f"blue-harvest-{scope}-backend-errors"]


def test_a_group_prefix_the_file_states_is_kept(tmp_path: Path) -> None:
    config = load_stack_file(_prod_as(tmp_path, "prod-eu", groupPrefix="/eu/bh"), "prod-eu")
    assert config.logs.group_prefix == "/eu/bh"


def test_under_the_engine_the_scope_is_the_engines_stack() -> None:
    engine = _under_engine("prod-eu", _engine_view("prod"), load_from_pulumi)
    assert (engine.environment, engine.stack, engine.name_scope) == ("prod", "prod-eu", "prod-eu")
    assert engine.logs.group_prefix == "/blue-harvest/prod-eu"


def test_a_dotted_stack_name_is_shown_as_written_and_as_scoped(tmp_path: Path) -> None:
    stack = "prod.eu-west-1.blue-green-canary-second-five"
    with pytest.raises(ConfigError) as caught:
        load_stack_file(_prod_as(tmp_path, stack), stack)
    message = caught.value.render()
    assert ": blue-harvest:services.frontend: the IAM role name " in message
    assert f"the stack name {stack!r} as 'prod-eu-west-1-blue-green-canary-second-five'" in message
