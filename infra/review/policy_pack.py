"""The CrossGuard policy pack: the same policy functions `estate check` runs, enforced by
`pulumi preview --policy-pack policy` (policy/__main__.py builds it)."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    PolicyResource,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.review.policies import POLICIES, Policy, Resource, environment_of

ReportViolation = Callable[[str, str | None], None]


def from_policy_resource(r: PolicyResource) -> Resource:
    return Resource(
        type=r.resource_type, urn=r.urn, name=r.name, props=r.props, protect=bool(r.opts.protect)
    )


def _validator(policy: Policy) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [from_policy_resource(r) for r in args.resources]
        for v in policy.check(resources, environment_of(resources)):
            report_violation(f"{v.location}: {v.message}", v.urn)

    return validate


def stack_policies() -> list[StackValidationPolicy]:
    return [
        StackValidationPolicy(
            name=p.name,
            description=p.description,
            validate=_validator(p),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for p in POLICIES
    ]


def build_pack() -> PolicyPack:
    return PolicyPack(name="blue-harvest-estate", policies=list(stack_policies()))
