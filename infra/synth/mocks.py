"""Mocks for the Pulumi SDK's mock engine: deterministic ids, ARNs and invoke results.

The values stand in for what a provider would return; they are fixed so that a synth is
byte-identical across runs. Any invoke the estate does not expect is refused loudly, so a
new data-source call cannot slip through with an empty answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

#: The AWS account every mock ARN is in; reviewers recognise it as documentation's account.
MOCK_ACCOUNT_ID = "123456789012"


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


class EstateMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str | None) -> None:
        self.region = region or "us-east-1"

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return (
                {
                    "accountId": MOCK_ACCOUNT_ID,
                    "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/estate-synth",
                    "id": MOCK_ACCOUNT_ID,
                    "userId": "AIDAESTATESYNTH",
                },
                [],
            )
        raise NotImplementedError(f"estate synth has no mock for the invoke {args.token}")

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        name = str(inputs.get("name") or args.name)
        rid = f"{args.name}-id"
        state = {**inputs, **self._computed(args.typ, name, args.name, inputs)}
        if "id" in state and isinstance(state["id"], str):
            rid = state["id"]
        return rid, state

    def _computed(
        self, typ: str, name: str, logical: str, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        acct, region = MOCK_ACCOUNT_ID, self.region
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": f"arn:aws:logs:{region}:{acct}:log-group:{name}"}
        if typ == "aws:kms/key:Key":
            d = _digest(typ, logical)
            key_id = f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"
            return {"arn": f"arn:aws:kms:{region}:{acct}:key/{key_id}", "keyId": key_id}
        if typ == "aws:sns/topic:Topic":
            return {"arn": f"arn:aws:sns:{region}:{acct}:{name}"}
        if typ == "aws:iam/role:Role":
            return {"arn": f"arn:aws:iam::{acct}:role/{name}"}
        if typ == "aws:iam/policy:Policy":
            return {"arn": f"arn:aws:iam::{acct}:policy/{name}"}
        if typ == "random:index/randomPassword:RandomPassword":
            return {"result": f"synth-{_digest(typ, logical)[:24]}"}
        if typ == "pagerduty:index/serviceIntegration:ServiceIntegration":
            return {"integrationKey": f"synth{_digest(typ, logical)[:27]}"}
        if typ.startswith("pagerduty:"):
            return {"id": "P" + _digest(typ, logical)[:6].upper()}
        if typ == "sentry:index/sentryKey:SentryKey":
            key = _digest(typ, logical)
            return {
                "dsnPublic": f"https://{key[:32]}@o0.ingest.sentry.io/4500000000000000",
                "dsnSecret": f"https://{key[:32]}:{key[32:64]}@o0.ingest.sentry.io/4500000000000000",
                "projectId": "4500000000000000",
            }
        if typ == "sentry:index/sentryProject:SentryProject":
            return {"projectId": "4500000000000000", "internalId": "4500000000000000"}
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            bucket = str(inputs.get("bucket") or logical)
            return {"arn": f"arn:aws:s3:::{bucket}", "id": bucket, "bucket": bucket}
        if typ == "aws:cognito/identityPool:IdentityPool":
            d = _digest(typ, logical)
            pool = f"{region}:{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"
            return {
                "id": pool,
                "arn": f"arn:aws:cognito-identity:{region}:{acct}:identitypool/{pool}",
            }
        if typ == "aws:amp/workspace:Workspace":
            # AMP's own id form (`ws-` and a UUID) and the endpoint it reports, with its `/`.
            d = _digest(typ, logical)
            workspace = f"ws-{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"
            return {
                "id": workspace,
                "arn": f"arn:aws:aps:{region}:{acct}:workspace/{workspace}",
                "prometheusEndpoint": (
                    f"https://aps-workspaces.{region}.amazonaws.com/workspaces/{workspace}/"
                ),
            }
        if typ == "aws:rum/appMonitor:AppMonitor":
            d = _digest(typ, logical)
            return {
                "appMonitorId": f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}",
                "arn": f"arn:aws:rum:{region}:{acct}:appmonitor/{name}",
            }
        if typ.startswith("aws:"):
            service = typ.split(":")[1].split("/", maxsplit=1)[0]
            return {"arn": f"arn:aws:{service}:{region}:{acct}:{logical}"}
        return {}
