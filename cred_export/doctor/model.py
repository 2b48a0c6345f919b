"""Check 10: the model Claude Code asks Bedrock for exists as an inference profile in the region.

Bedrock runs Claude models on demand only through inference profiles (`global.…`, `us.…`, or an
application inference profile ARN); a bare foundation model id fails with "on-demand throughput
isn't supported".
"""

from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError, ClientError

from cred_export.doctor import claude_env
from cred_export.doctor.bedrock import FALLBACK_REGION, list_inference_profiles
from cred_export.doctor.claude_env import display_path
from cred_export.doctor.claude_wiring import setup_command
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip, warn

ALIASES = frozenset({"default", "sonnet", "opus", "haiku", "opusplan"})
_PROVIDERS = "anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|stability|openai|qwen|twelvelabs"
_FOUNDATION_ID = re.compile(rf"^(?:{_PROVIDERS})\.[A-Za-z0-9.:-]+$")
_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:(?P<kind>[a-z-]+)/(?P<id>.+)$")
_SUFFIX = re.compile(r"\[[^\]]*\]$")  # Claude Code's "[1m]" context-window suffix


def check_model(ctx: Context) -> Check:
    model, source = _configured(ctx)
    if model is None:
        return ok("model", "not set: Claude Code's default model for Bedrock")
    model = _SUFFIX.sub("", model.strip())
    if model in ALIASES:
        return ok("model", f"{model} (a Claude Code alias, from {source})")
    arn = _ARN.match(model)
    if arn:
        return _check_arn(ctx, model, arn.group("kind"), source)
    if _FOUNDATION_ID.match(model) and model not in ctx.profile_ids:
        return _foundation_model(ctx, model, model, source)
    if not ctx.listed:
        return skip("model", f"{model}: needs Bedrock's list of inference profiles")
    if model in ctx.profile_ids:
        return ok("model", f"{model}: an inference profile in {_region(ctx)} (from {source})")
    return _unknown(ctx, model, source)


def _configured(ctx: Context) -> tuple[str | None, str]:
    if ctx.model_option:
        return ctx.model_option, "--model"
    setting = claude_env.lookup("ANTHROPIC_MODEL")
    return (setting.value, f"ANTHROPIC_MODEL in {setting.source}") if setting else (None, "")


def _where(ctx: Context) -> str:
    """Where to put the corrected id: the file the model came from, or the environment."""
    if ctx.model_option:
        return ""
    setting = claude_env.lookup("ANTHROPIC_MODEL")
    if setting is None or setting.path is None:
        return " as ANTHROPIC_MODEL"
    return f' as "ANTHROPIC_MODEL" in "env" of {display_path(setting.path)}'


def _check_arn(ctx: Context, model: str, kind: str, source: str) -> Check:
    if kind == "foundation-model":
        return _foundation_model(ctx, model, model.rsplit("/", 1)[1], source)
    if kind not in ("inference-profile", "application-inference-profile"):
        return warn("model", f"{model}: a {kind} ARN, not checked", "use an inference profile id or ARN")
    if not ctx.listed:
        return skip("model", f"{model}: needs Bedrock's list of inference profiles")
    arns = ctx.profile_arns if kind == "inference-profile" else _application_arns(ctx)
    if arns is None:
        return skip("model", f"{model}: application inference profiles could not be listed")
    if model in arns:
        return ok("model", f"{model}: listed in {_region(ctx)} (from {source})")
    return fail(
        "model",
        f"{model} is not an inference profile in {_region(ctx)}",
        "check the ARN and the region: aws bedrock list-inference-profiles --type-equals APPLICATION"
        f" --region {_region(ctx)}",
    )


def _application_arns(ctx: Context) -> set[str] | None:
    try:
        summaries = list_inference_profiles(ctx, _region(ctx), "APPLICATION")
    except (ClientError, BotoCoreError):
        return None
    return {s["inferenceProfileArn"] for s in summaries}


def _foundation_model(ctx: Context, model: str, model_id: str, source: str) -> Check:
    listed = sorted(pid for pid in ctx.profile_ids if pid.endswith("." + model_id))
    choices = listed[:2] or [f"global.{model_id}", f"us.{model_id}"]
    return fail(
        "model",
        f"{model} (from {source}) is a foundation model: on-demand throughput isn't supported",
        _setup_fix(ctx, choices[0])
        or f"use an inference profile id such as {' or '.join(choices)}{_where(ctx)}",
    )


def _unknown(ctx: Context, model: str, source: str) -> Check:
    anthropic = sorted(pid for pid in ctx.profile_ids if ".anthropic." in pid)
    hint = f", e.g. {' or '.join(anthropic[:2])}" if anthropic else ""
    return fail(
        "model",
        f"{model} (from {source}) is not an inference profile in {_region(ctx)}",
        (_setup_fix(ctx, anthropic[0]) if anthropic else None)
        or f"use an inference profile listed in {_region(ctx)}{hint}{_where(ctx)}",
    )


def _setup_fix(ctx: Context, model: str) -> str | None:
    """`run cred-export setup claude … --model M` when the model came from the user's settings,
    which that command writes; None otherwise (another layer, the environment, --model)."""
    setting = None if ctx.model_option else claude_env.lookup("ANTHROPIC_MODEL")
    if setting is None or setting.layer != "user":
        return None
    return f"run {setup_command(ctx.profile, '--model', model)} (or another inference profile listed)"


def _region(ctx: Context) -> str:
    return ctx.region or FALLBACK_REGION
