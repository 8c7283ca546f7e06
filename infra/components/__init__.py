"""Pulumi ComponentResources: thin adapters from specs and renderers to resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


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


def helm_release(
    resource_name: str,
    *,
    release: str,
    chart: str,
    repo: str,
    version: str,
    namespace: str,
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A pinned chart with a fixed release name (selectors and Service names depend on it),
    installed atomically so a failed upgrade rolls back instead of leaving half a release."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=timeout,
        opts=opts,
    )
