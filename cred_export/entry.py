"""The console entry point: the cache-hit path first, the full CLI when it cannot answer.

Claude Code runs `cred-export` on every credential reload and `cred-export login` at every
start; Claude Desktop runs `bedrock-token`. The common case — valid credentials already
cached — is answered by `hit` with the standard library alone. Anything that path is not sure
about (another command, an unusual flag, no memo, a miss, credentials inside the refresh
window) is handed to the full CLI, which does it properly, with what the hit path learned.

Only light modules are imported here, and a store's reader only when its kind is read:
`tests/test_hit_path.py` fails if a hit loads boto3, botocore, click, keyring or a parser.

Core dumps go off first thing in every run (`disable_core_dumps`): a crash must not write the
secrets in memory to a core file. `resource` is a small C module: importing it and setting the
limit costs about a third of a millisecond, measured, so the cache-hit path does it too.
systemd-coredump and apport, where `core_pattern` pipes dumps to them, honour the limit as well.
Not `prctl(PR_SET_DUMPABLE, 0)`: besides costing ctypes, it broke the Secret Service under load —
32 concurrent exports on gnome-keyring no longer all saw the one renewal's credentials
(tests/test_concurrency.py).
"""

from __future__ import annotations

import os
import sys

from cred_export import hit, log
from cred_export.fast.invocation import HitNotes, parse_request


def main() -> None:
    disable_core_dumps()  # before any secret is read
    argv = sys.argv[1:]
    if not argv and os.environ.get("CLAUDE_HELPER_CONTEXT"):  # Claude Desktop's credential helper
        from cred_export.commands import desktop_helper

        sys.exit(desktop_helper.main())
    notes = HitNotes()
    request = parse_request(argv)
    if request is not None:
        if request.debug:
            log.enable_debug()
        try:
            answer = hit.answer(request, notes)
        except Exception as exc:  # the slow path will do it properly and report errors
            log.debug(f"fast path gave up: {type(exc).__name__}")
            answer = None
        if answer is not None:
            _emit(answer)
            return
    from cred_export.cli import run

    sys.exit(run(argv, notes))


def _emit(document: str) -> None:
    try:
        sys.stdout.write(document)
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(0)


def disable_core_dumps() -> None:
    """Set the soft RLIMIT_CORE to 0 (see the module's docstring)."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass  # not POSIX, or a limit this process may not change: nothing more to do
