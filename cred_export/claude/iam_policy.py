"""The least-privilege IAM policy Claude Code on Amazon Bedrock needs, optionally narrowed.

Claude Code calls the Invoke API (`InvokeModel`, `InvokeModelWithResponseStream`) on an
inference profile or a foundation model, reads inference profiles (`ListInferenceProfiles`,
`GetInferenceProfile`), and Bedrock subscribes the account to a model through AWS Marketplace
on the caller's behalf the first time it is used.

By default it allows Anthropic's models only (`--all-providers` allows every provider's).
Narrowing (`--model`, `--region`, `--account`) limits the Invoke resources. A cross-region
inference profile (`us.`, `eu.`, `apac.`, `global.` …) is called in one region but routes the
request to the foundation model in any region of its geography (any region at all for
`global.`), so the foundation-model resources behind such a profile always use region `*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cred_export.errors import ConfigError

# Prefixes of system-defined cross-region inference profile ids (`global.anthropic.…`).
GEOGRAPHIES = ("global", "us", "us-gov", "eu", "apac", "jp", "au", "ca")

ANTHROPIC = "anthropic"  # the provider prefix of Claude's model ids
INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
MARKETPLACE_ACTIONS = ["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"]

_FOUNDATION_MODEL = re.compile(r"[a-z0-9-]+\.[a-z0-9][a-z0-9.:-]*")
_REGION = re.compile(r"[a-z]{2,}(-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):bedrock:(?P<region>[a-z0-9-]*):(?P<account>[0-9]{12}|)"
    r":(?P<kind>inference-profile|application-inference-profile|foundation-model)/(?P<id>.+)"
)
_APPLICATION_PROFILE_ID = re.compile(r"[a-z0-9]+")

_MODEL_HINT = (
    "expected an inference profile id (global.anthropic.claude-sonnet-4-6), a foundation model id"
    " (anthropic.claude-sonnet-4-6) or an application inference profile ARN"
)


@dataclass(frozen=True)
class Scope:
    """Where the caller may invoke: partition, regions (`*` for any) and account (`*` for any)."""

    partition: str
    regions: tuple[str, ...]
    account: str

    def arn(self, region: str, resource: str, account: str | None = None) -> str:
        return (
            f"arn:{self.partition}:bedrock:{region}:{self.account if account is None else account}:{resource}"
        )

    def regional(self, resource: str) -> list[str]:
        """`resource` in each allowed region, in the allowed account."""
        return [self.arn(region, resource) for region in self.regions]

    def foundation_model(self, model_id: str, region: str = "*") -> str:
        """Foundation-model ARNs have an empty account field."""
        return self.arn(region, f"foundation-model/{model_id}", account="")


@dataclass
class Resources:
    """The Invoke resources and the inference profiles among them (for GetInferenceProfile)."""

    invoke: list[str]
    profiles: list[str]


def cross_region_model(profile_id: str) -> str | None:
    """The foundation model id behind a cross-region profile id (`us.anthropic.x` → `anthropic.x`)."""
    geography, dot, model = profile_id.partition(".")
    if dot and geography in GEOGRAPHIES and _FOUNDATION_MODEL.fullmatch(model):
        return model
    return None


def is_region(value: str) -> bool:
    """True for a well-formed AWS region name (us-east-1, us-gov-west-1, ap-southeast-2)."""
    return _REGION.fullmatch(value) is not None


def is_bare_foundation_model(model: str) -> bool:
    """True for `anthropic.claude-…`: a foundation model id, not an inference profile id."""
    return _FOUNDATION_MODEL.fullmatch(model) is not None and model.partition(".")[0] not in GEOGRAPHIES


def build_policy(
    models: Sequence[str] = (),
    regions: Sequence[str] = (),
    account: str | None = None,
    *,
    all_providers: bool = False,
) -> dict:
    """The policy document; raises ConfigError naming the first bad model id, region or account.

    Without `models`, Anthropic's models only (Claude Code uses no other), unless `all_providers`."""
    scope = _scope(regions, account)
    if models:
        resources = _for_models(models, scope)
    else:
        resources = _any_model(scope) if all_providers else _any_anthropic_model(scope)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "InvokeModels",
            "Effect": "Allow",
            "Action": INVOKE_ACTIONS,
            "Resource": resources.invoke,
        }
    ]
    if resources.profiles:
        statements.append(
            {
                "Sid": "ReadInferenceProfiles",
                "Effect": "Allow",
                "Action": ["bedrock:GetInferenceProfile"],
                "Resource": resources.profiles,
            }
        )
    statements += [
        # A list action: IAM evaluates it against "*" only, so no narrower resource can grant it.
        {
            "Sid": "ListInferenceProfiles",
            "Effect": "Allow",
            "Action": ["bedrock:ListInferenceProfiles"],
            "Resource": "*",
        },
        {
            "Sid": "SubscribeToModelsThroughBedrock",
            "Effect": "Allow",
            "Action": MARKETPLACE_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}},
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _scope(regions: Sequence[str], account: str | None) -> Scope:
    for region in regions:
        if not is_region(region):
            raise ConfigError(f"--region {region!r} is not an AWS region (e.g. us-east-1)")
    if account is not None and not _ACCOUNT.fullmatch(account):
        raise ConfigError(f"--account {account!r} is not a 12-digit AWS account id")
    unique = tuple(dict.fromkeys(regions))
    return Scope(_partition(unique), unique or ("*",), account or "*")


def _partition(regions: Iterable[str]) -> str:
    partitions = {
        "aws-us-gov" if r.startswith("us-gov-") else "aws-cn" if r.startswith("cn-") else "aws"
        for r in regions
    }
    if len(partitions) > 1:
        raise ConfigError(
            "--region values span AWS partitions (aws, aws-cn, aws-us-gov): make one policy per partition"
        )
    return partitions.pop() if partitions else "aws"


def _any_model(scope: Scope) -> Resources:
    profiles = scope.regional("inference-profile/*") + scope.regional("application-inference-profile/*")
    # Cross-region profiles route to any region, so the models behind them: region `*`.
    return Resources([*profiles, scope.foundation_model("*")], profiles)


def _any_anthropic_model(scope: Scope) -> Resources:
    """Anthropic's foundation models, and the inference profiles that can route to them: the
    system-defined ones by name (`us.anthropic.…`, `global.anthropic.…`) and application inference
    profiles, whose ARN does not name the model; Bedrock also checks the foundation model behind
    a profile, so one that wraps another provider's model is still refused."""
    profiles = scope.regional(f"inference-profile/*.{ANTHROPIC}.*") + scope.regional(
        "application-inference-profile/*"
    )
    return Resources([*profiles, scope.foundation_model(f"{ANTHROPIC}.*")], profiles)


def _for_models(models: Sequence[str], scope: Scope) -> Resources:
    profiles: list[str] = []
    foundation_models: list[str] = []
    for model in models:
        model_profiles, model_foundations = _model_resources(model.strip(), scope)
        profiles += model_profiles
        foundation_models += model_foundations
    profiles = list(dict.fromkeys(profiles))
    return Resources(profiles + list(dict.fromkeys(foundation_models)), profiles)


def _model_resources(model: str, scope: Scope) -> tuple[list[str], list[str]]:
    """(inference profile ARNs, foundation-model ARNs) that invoking `model` touches."""
    if model.startswith("arn:"):
        return _arn_resources(model)
    behind = cross_region_model(model)
    if behind is not None:
        # Cross-region profile: called in the allowed regions, served from any region.
        return scope.regional(f"inference-profile/{model}"), [scope.foundation_model(behind)]
    if is_bare_foundation_model(model):
        # A foundation model invoked directly is served in the region it is called in.
        return [], [scope.foundation_model(model, region) for region in scope.regions]
    raise ConfigError(f"--model {model!r} is not a Bedrock model id: {_MODEL_HINT}")


def _arn_resources(arn: str) -> tuple[list[str], list[str]]:
    match = _ARN.fullmatch(arn)
    if match is None:
        raise ConfigError(f"--model {arn!r} is not a Bedrock inference profile or foundation model ARN")
    kind, ident, region, account = match["kind"], match["id"], match["region"], match["account"]
    any_region = Scope(match["partition"], ("*",), "*")
    if kind == "foundation-model" and is_bare_foundation_model(ident) and not account:
        return [], [arn]
    if (
        kind == "application-inference-profile"
        and _APPLICATION_PROFILE_ID.fullmatch(ident)
        and region
        and account
    ):
        # The model it wraps is not in the ARN (it may copy a cross-region profile): any Anthropic model.
        return [arn], [any_region.foundation_model(f"{ANTHROPIC}.*")]
    behind = cross_region_model(ident)
    if kind == "inference-profile" and behind is not None and region and account:
        return [arn], [any_region.foundation_model(behind)]
    raise ConfigError(f"--model {arn!r} is not a valid Bedrock {kind} ARN")
