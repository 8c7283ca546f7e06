"""`pulumi preview --policy-pack policy`: the estate's policies, from infra.checks."""

from infra.review.policy_pack import build_pack

build_pack()
