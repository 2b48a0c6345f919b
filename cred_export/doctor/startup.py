"""Check 13: what Claude Code pays at every start, and whether it runs the user's hook at all.

Claude Code runs `awsAuthRefresh` (`cred-export login`) before its first export whenever its
own AWS SDK cannot resolve the profile, then `awsCredentialExport`: on a warm cache both should
be answered from the cache alone. This check times each (the credentials check has just warmed
the cache) next to `python -c pass` on the same interpreter, and warns when one of them is well
over its budget — the sign that it takes the slow path at every start. It also warns when the
managed settings set `AWS_PROFILE` while `awsCredentialExport` comes from a lower layer: Claude
Code then ignores that hook.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from cred_export import stores
from cred_export.claude import installed
from cred_export.doctor import claude_env, hooks
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, ok, skip, warn

RUNS = 5  # timed runs of each command, after one untimed one
RUN_TIMEOUT = 30.0
# The benchmark's budgets (benchmarks/run.py), with room for a machine that is busy right now:
# only a hit that took the slow path is flagged.
EXPORT_BUDGET = {"file": 1.5, "keyring": 2.5}  # x python -c pass
LOGIN_BUDGET = 1.2  # x the export's hit
TOLERANCE = 3.0  # a slow path costs 10-30x: generous room for a busy machine still catches it


def check_startup(ctx: Context) -> Check:
    ignored = _ignored_export_hook()
    if ignored:
        return warn("startup", ignored, _managed_fix(ctx))
    if ctx.credentials is None or ctx.store is None:
        return skip("startup", "needs credentials")
    if ctx.store.kind == stores.NONE:
        return skip("startup", 'nothing is cached (cache = "none"): every start asks upstream')
    program = _hook_program()
    shown = " ".join(program)
    try:
        export_ms = _median_ms([*program, "--profile", ctx.profile])
        # A short --timeout: should login need a sign-in after all, it gives up instead of waiting.
        login_ms = _median_ms([*program, "login", "--profile", ctx.profile, "--timeout", "5"])
        floor_ms = None if getattr(sys, "frozen", False) else _median_ms([sys.executable, "-c", "pass"])
    except _Failed as exc:
        return warn("startup", f"{' '.join(exc.argv)} exited {exc.code}", _debug_fix(ctx))
    except (OSError, subprocess.SubprocessError) as exc:
        return warn("startup", f"could not time {shown}: {type(exc).__name__}", _debug_fix(ctx))
    store = "keyring" if ctx.store.is_os_keyring else "file"
    detail = _detail(export_ms, login_ms, floor_ms, store)
    slow = _over_budget(export_ms, login_ms, floor_ms, store)
    return warn("startup", f"{detail}; {slow}", _debug_fix(ctx)) if slow else ok("startup", detail)


def _ignored_export_hook() -> str | None:
    """Why Claude Code ignores the effective awsCredentialExport, or None."""
    profile = claude_env.lookup("AWS_PROFILE")
    export = hooks.effective("awsCredentialExport")
    if profile is None or profile.layer != "managed" or export is None or export.layer.name == "managed":
        return None
    return (
        f"managed settings set AWS_PROFILE={profile.value}: Claude Code then ignores awsCredentialExport"
        f" from the {export.layer.name} settings"
    )


def _managed_fix(ctx: Context) -> str:
    return (
        f"put the hooks in the managed settings too (sudo cred-export setup claude --managed --profile"
        f" {ctx.profile} -o <managed-settings.json>), or remove AWS_PROFILE from them"
    )


class _Failed(Exception):
    """A timed run did not succeed."""

    def __init__(self, argv: list[str], code: int) -> None:
        super().__init__(code)
        self.argv, self.code = argv, code


def _hook_program() -> list[str]:
    """How the hook starts cred-export (`…/cred-export`, `…/python -m cred_export`), else this one."""
    hook = hooks.effective("awsCredentialExport")
    program = hook.invocation() if hook else None
    if program and os.path.isabs(program[0]) and os.access(program[0], os.X_OK):
        return program
    return [installed.executable() or "cred-export"]


def _median_ms(argv: list[str]) -> float:
    samples = []
    for run in range(RUNS + 1):
        started = time.perf_counter()
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the credentials: never shown
            stderr=subprocess.DEVNULL,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        if completed.returncode:
            raise _Failed(argv, completed.returncode)
        if run:
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _detail(export_ms: float, login_ms: float, floor_ms: float | None, store: str) -> str:
    floor = f", python -c pass {floor_ms:.0f} ms" if floor_ms else ""
    return (
        f"warm cache ({store} store): export {export_ms:.0f} ms, login {login_ms:.0f} ms{floor}"
        f" (budgets: export <= {EXPORT_BUDGET[store]:g}x python, login <= {LOGIN_BUDGET:g}x export)"
    )


def _over_budget(export_ms: float, login_ms: float, floor_ms: float | None, store: str) -> str | None:
    if floor_ms and export_ms > floor_ms * EXPORT_BUDGET[store] * TOLERANCE:
        return "the export is not answered from the cache: Claude Code pays this at every credential reload"
    if login_ms > export_ms * LOGIN_BUDGET * TOLERANCE:
        return "login is not answered from the cache: Claude Code pays this at every start"
    return None


def _debug_fix(ctx: Context) -> str:
    return f"run cred-export login --profile {ctx.profile} --debug and look for 'cache hit'"
