"""The mock engine's AWS answers: shaped like the provider's, and the same on every run."""

from __future__ import annotations

import re

import pulumi

from infra.config.model import AmpConfig
from infra.synth.mocks import MOCK_ACCOUNT_ID, EstateMocks

WORKSPACE = "aws:amp/workspace:Workspace"


def _workspace(region: str, name: str) -> tuple[str | None, dict[str, object]]:
    args = pulumi.runtime.MockResourceArgs(WORKSPACE, name, {"alias": "x"}, custom=True)
    return EstateMocks(region).new_resource(args)


def test_a_workspace_gets_an_amp_shaped_id_its_arn_and_endpoint() -> None:
    rid, state = _workspace("eu-west-1", "metrics-store-workspace")
    assert rid is not None
    # The id is one metrics.amp.workspaceId accepts: a second stack can name it.
    pattern = AmpConfig.model_fields["workspace_id"].metadata[0].pattern
    assert re.fullmatch(pattern, rid)
    assert state["id"] == rid
    assert state["arn"] == f"arn:aws:aps:eu-west-1:{MOCK_ACCOUNT_ID}:workspace/{rid}"
    assert state["prometheusEndpoint"] == (
        f"https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/{rid}/"
    )
    assert state["alias"] == "x"


def test_workspace_ids_are_the_same_on_every_run_and_differ_by_resource() -> None:
    first, _ = _workspace("us-east-1", "metrics-store-workspace")
    again, _ = _workspace("us-east-1", "metrics-store-workspace")
    other, _ = _workspace("us-east-1", "other-workspace")
    assert first == again
    assert first != other
