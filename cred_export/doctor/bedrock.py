"""Check 9: Bedrock's control plane answers these credentials (bedrock:ListInferenceProfiles)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cred_export.aws.clients import error_code, error_message
from cred_export.doctor.aws_clients import signed_client
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip
from cred_export.util.text import first_line

# Claude Code's last resort when no region is configured.
FALLBACK_REGION = "us-east-1"
PAGE_SIZE = 1000
MAX_PAGES = 10  # bounds the listing: each page is one bounded request

_IAM_FIX = (
    "allow bedrock:ListInferenceProfiles, bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream"
    " for this identity: cred-export iam-policy prints the policy Claude Code needs"
)


def check_bedrock(ctx: Context) -> Check:
    if ctx.credentials is None:
        return skip("bedrock", "needs credentials")
    region = ctx.region or FALLBACK_REGION
    try:
        summaries = list_inference_profiles(ctx, region)
    except ClientError as exc:
        return _refused(exc, region)
    except BotoCoreError as exc:
        return fail(
            "bedrock",
            f"cannot reach Bedrock in {region}: {first_line(exc)}",
            "check the region, network, VPN or proxy",
        )
    ctx.listed = True
    ctx.profile_ids = {s["inferenceProfileId"] for s in summaries}
    ctx.profile_arns = {s["inferenceProfileArn"] for s in summaries}
    anthropic = sum(".anthropic." in s["inferenceProfileId"] for s in summaries)
    return ok("bedrock", f"{len(summaries)} inference profiles in {region} ({anthropic} Anthropic)")


def list_inference_profiles(ctx: Context, region: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Inference profile summaries (`kind`: None for Bedrock's default, SYSTEM_DEFINED, APPLICATION)."""
    assert ctx.credentials is not None
    client = signed_client("bedrock", ctx.profile, ctx.credentials, region)
    request: dict[str, Any] = {"maxResults": PAGE_SIZE}
    if kind:
        request["typeEquals"] = kind
    summaries: list[dict[str, Any]] = []
    for _page in range(MAX_PAGES):
        response = client.list_inference_profiles(**request)
        summaries.extend(response.get("inferenceProfileSummaries", []))
        if not response.get("nextToken"):
            break
        request["nextToken"] = response["nextToken"]
    return summaries


def _refused(exc: ClientError, region: str) -> Check:
    code, message = error_code(exc), error_message(exc)
    detail = f"ListInferenceProfiles in {region}: {code}" + (f": {message}" if message else "")
    if code in ("AccessDeniedException", "AccessDenied"):
        return fail("bedrock", detail, _IAM_FIX)
    if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
        return fail(
            "bedrock", detail, "Bedrock does not accept these credentials: check the clock and the profile"
        )
    return fail("bedrock", detail, f"see the AWS error; check that Bedrock is available in {region}")
