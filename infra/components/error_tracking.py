"""ErrorTracking: the environment's Sentry project, its client key, and the DSN as a Secret.

One project per environment (slug `blue-harvest-<env>`) in `sentry.organization`, owned by
`sentry.team`; its client key's DSN is written, as a secret output, into a Kubernetes Secret
in every workload namespace, which the Deployments' SENTRY_DSN secretKeyRef reads. The Sentry
provider is the default one: it reads its token from `sentry:token` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_sentry as sentry

from infra.config.model import EstateConfig
from infra.naming import TYPE_PREFIX, resource_name
from infra.render.workloads import sentry_secret


@dataclass(frozen=True)
class ErrorTrackingArgs:
    environment: str
    #: Sentry organization and team slugs (sentry.organization, sentry.team).
    organization: str
    team: str
    #: Namespaces whose workloads read the DSN Secret.
    namespaces: Sequence[str]
    #: Sentry platform of the project (the seed's backend is Express).
    platform: str = "node-express"
    #: What the Secrets wait for (the workloads' Namespace).
    depends_on: Sequence[pulumi.Resource] = ()

    @classmethod
    def from_config(
        cls, config: EstateConfig, depends_on: Sequence[pulumi.Resource] = ()
    ) -> ErrorTrackingArgs:
        s = config.sentry
        if not s.enabled or s.organization is None or s.team is None:
            raise ValueError("ErrorTracking needs sentry.enabled with organization and team")
        return cls(
            environment=config.environment,
            organization=s.organization,
            team=s.team,
            namespaces=(config.cluster.namespace,),
            depends_on=depends_on,
        )


def project_slug(environment: str) -> str:
    return resource_name(environment)


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
        child = pulumi.ResourceOptions(parent=self)
        project = sentry.SentryProject(
            f"{name}-project",
            organization=args.organization,
            name=f"Blue Harvest ({args.environment})",
            slug=project_slug(args.environment),
            teams=[args.team],
            platform=args.platform,
            opts=child,
        )
        key = sentry.SentryKey(
            f"{name}-key",
            organization=args.organization,
            project=project.slug,
            name=resource_name(args.environment, "workloads"),
            opts=child,
        )
        dsn = pulumi.Output.secret(key.dsn_public)
        self.dsn_secrets = []
        for namespace in sorted(set(args.namespaces)):
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
