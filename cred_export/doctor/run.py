"""Run every check in order; a check that needs an earlier one's result skips when it is missing."""

from __future__ import annotations

from collections.abc import Callable

from cred_export.doctor import profile_choice
from cred_export.doctor.bedrock import check_bedrock
from cred_export.doctor.claude_desktop import check_claude_desktop
from cred_export.doctor.claude_wiring import check_claude_code
from cred_export.doctor.clock import check_clock
from cred_export.doctor.config_checks import check_config, check_profile
from cred_export.doctor.context import Context
from cred_export.doctor.credentials_check import check_credentials
from cred_export.doctor.environment import check_environment
from cred_export.doctor.identity import check_identity
from cred_export.doctor.model import check_model
from cred_export.doctor.region import check_region
from cred_export.doctor.report import CHECK_IDS, Check, Report, fail
from cred_export.doctor.startup import check_startup
from cred_export.doctor.store_checks import check_cache, check_keyring
from cred_export.util import deadline, tracebacks
from cred_export.util.text import describe_exception

CHECKS: tuple[tuple[str, Callable[[Context], Check]], ...] = (
    ("config", check_config),
    ("profile", check_profile),
    ("keyring", check_keyring),
    ("cache", check_cache),
    ("region", check_region),
    ("environment", check_environment),
    ("credentials", check_credentials),
    ("identity", check_identity),
    ("clock", check_clock),
    ("bedrock", check_bedrock),
    ("model", check_model),
    ("claude-code", check_claude_code),
    ("startup", check_startup),
    ("desktop", check_claude_desktop),
)
assert tuple(check_id for check_id, _ in CHECKS) == CHECK_IDS


def run(profile_option: str | None, model_option: str | None) -> Report:
    profile, named, origin = profile_choice.choose(profile_option)
    ctx = Context(profile, named, origin, model_option=model_option)
    return Report(profile, tuple(_run_one(check_id, check, ctx) for check_id, check in CHECKS))


def _run_one(check_id: str, check: Callable[[Context], Check], ctx: Context) -> Check:
    """One check's verdict; a bug in a check fails that check, never the whole report."""
    try:
        with deadline.phase(deadline.CHECK_SECONDS):
            return check(ctx)
    except Exception as exc:
        tracebacks.show_if_debugging()
        return fail(
            check_id,
            f"unexpected error: {describe_exception(exc)}",
            "run cred-export doctor --debug and report it",
        )
