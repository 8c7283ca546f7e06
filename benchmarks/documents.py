"""What the floor declares as recorded: every resource outside CloudWatchLogs, from resources.json.

The floor declares the CloudWatch logs estate itself, from the stack file (benchmarks/floor.py):
that part is driven by the service list and carries the estate's output wiring (key ARN ->
log groups -> writer policies -> roles). Everything else the program declares (the monitoring
stack, workloads, Loki, tracing, dashboards, Sentry, ...) is made of documents the estate
renders with its own code (chart values, PrometheusRules, manifests); rendering them is the
estate's work, not the SDK's. So the benchmark extracts those resources' recorded inputs,
dependencies and providers from the synth's own record and hands them to the floor as JSON,
as it hands it the stack file as YAML; the floor declares each with its SDK class or the SDK's
CustomResource, with the same logical name, dependencies and provider.

Stdlib only: the harness uses it without importing the SDKs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

#: The component whose resources the floor derives from the stack file instead.
DERIVED_COMPONENT = "blueharvest:observability:CloudWatchLogs"
#: The explicit AWS provider, which the floor declares too.
DERIVED_PROVIDER = ("pulumi:providers:aws", "aws")
#: The estate's component resources: the floor has none.
COMPONENT_PREFIX = "blueharvest:"


def urn_key(urn: str) -> tuple[str, str]:
    """(type, logical name) from a URN; the type is the last of the parent$child chain."""
    return urn.split("::")[2].rsplit("$", 1)[-1], urn.rsplit("::", 1)[1]


def is_derived(resource: dict[str, Any]) -> bool:
    """Whether the floor declares `resource` from the stack file (not from a document)."""
    if (resource["type"], resource["name"]) == DERIVED_PROVIDER:
        return True
    parent = str(resource.get("parent") or "")
    return bool(parent) and urn_key(parent)[0] == DERIVED_COMPONENT


def documents_from(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documented resources of a resources.json: type, name, inputs, the (type, name) of
    the resources they depend on and of their provider (components and default providers
    left out, as the floor has neither), in an order where each comes after what it needs."""
    registered = {
        (str(r["type"]), str(r["name"]))
        for r in resources
        if not str(r["type"]).startswith(COMPONENT_PREFIX)
    }
    docs = []
    for r in resources:
        if not r["custom"] or is_derived(r):
            continue
        provider = urn_key(r["provider"].rsplit("::", 1)[0]) if r["provider"] else None
        docs.append(
            {
                "type": r["type"],
                "name": r["name"],
                "inputs": r["inputs"],
                "dependsOn": [list(urn_key(u)) for u in r["dependsOn"] if urn_key(u) in registered],
                "provider": list(provider) if provider in registered else None,
            }
        )
    return _dependency_order(docs)


def _dependency_order(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    documented = {(d["type"], d["name"]) for d in docs}
    done: set[tuple[str, str]] = set()
    ordered: list[dict[str, Any]] = []
    pending = list(docs)
    while pending:
        ready = [
            d
            for d in pending
            if all(
                tuple(dep) in done or tuple(dep) not in documented
                for dep in [*d["dependsOn"], *([d["provider"]] if d["provider"] else [])]
            )
        ]
        if not ready:
            raise ValueError("the recorded dependencies have a cycle")
        for d in ready:
            done.add((d["type"], d["name"]))
            ordered.append(d)
        pending = [d for d in pending if (d["type"], d["name"]) not in done]
    return ordered


def write_documents(resources_json: Path, target: Path) -> dict[str, int]:
    """Extract the documents of an out/<stack>/resources.json into `target`; returns the
    record's count of each resource type."""
    resources = json.loads(resources_json.read_text(encoding="utf-8"))["resources"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(documents_from(resources)), encoding="utf-8")
    return dict(Counter(str(r["type"]) for r in resources))


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.documents RESOURCES_JSON TARGET`: write the documents, print the
    record's type counts as one JSON line. The harness runs this in a child process so that
    it never holds a large record itself (a child's ru_maxrss starts at its parent's)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.documents")
    parser.add_argument("resources_json", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    counts = write_documents(args.resources_json, args.target)
    sys.stdout.write(json.dumps({"types": counts}) + "\n")


if __name__ == "__main__":
    main()
