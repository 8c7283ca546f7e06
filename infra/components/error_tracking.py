"""ErrorTracking: the stack's Sentry project, its client key, and the DSN as a Secret.

One project per stack (slug `blue-harvest-<name scope>`: `blue-harvest-prod` for prod) in
`sentry.organization`, owned by `sentry.team`; its client key's DSN is written, as a secret
output, into a Kubernetes Secret in every workload namespace, which the Deployments'
SENTRY_DSN secretKeyRef reads. The Sentry provider is the default one: it reads its token from
`sentry:token` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_sentry as sentry

from infra.naming import TYPE_PREFIX, resource_name
from infra.plan.sentry import SentryPlan
from infra.render.workloads import sentry_secret


@dataclass(frozen=True)
class ErrorTrackingArgs:
    """The Sentry plan, and what the DSN Secrets wait for (the workloads' Namespace)."""

    plan: SentryPlan
    depends_on: Sequence[pulumi.Resource] = ()


def project_slug(scope: str) -> str:
    """Project slugs are unique in the organization: the stack's name scope keeps two stacks
    of one environment apart."""
    return resource_name(scope)


class ErrorTracking(pulumi.ComponentResource):
    """Where the workloads' exceptions go."""

    project_slug: pulumi.Output[str]
    dsn: pulumi.Output[str]
    #: The DSN Secrets, for the workloads' depends_on.
    dsn_secrets: list[k8s.core.v1.Secret]

    def __init__(
        self, name: str, args: ErrorTrackingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ErrorTracking", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        project = sentry.SentryProject(
            f"{name}-project",
            organization=plan.organization,
            name=f"Blue Harvest ({plan.name_scope})",
            slug=project_slug(plan.name_scope),
            teams=[plan.team],
            platform=plan.platform,
            opts=child,
        )
        key = sentry.SentryKey(
            f"{name}-key",
            organization=plan.organization,
            project=project.slug,
            name=resource_name(plan.name_scope, "workloads"),
            opts=child,
        )
        dsn = pulumi.Output.secret(key.dsn_public)
        self.dsn_secrets = []
        for namespace in sorted(set(plan.namespaces)):
            manifest = sentry_secret(namespace, dsn)
            self.dsn_secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-dsn-{namespace}",
                    metadata=manifest["metadata"],
                    type=manifest["type"],
                    string_data=manifest["stringData"],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
                )
            )
        self.project_slug = project.slug
        self.dsn = dsn
        self.register_outputs({"projectSlug": self.project_slug, "dsn": self.dsn})
