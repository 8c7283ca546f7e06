"""Pulumi ComponentResources: thin adapters from specs and renderers to resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

TYPE_PREFIX = "blueharvest:observability"


def custom_resource(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A CRD-backed resource (PrometheusRule, ServiceMonitor) from its rendered manifest."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=opts,
    )
