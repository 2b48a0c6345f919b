"""Claude Desktop's `inferenceCredentialHelper`: `cred-export` run with no arguments and
`CLAUDE_HELPER_CONTEXT` set.

Stdout is the bare bearer token (a Bedrock API key), without a line end, and nothing else; the
exit code is 0. Every failure is one line on stderr (which Claude Desktop only logs) and the
documented exit code: 2 not set up or misconfigured, 3 sign-in required, 4 AWS refused.
"""

from __future__ import annotations

import os
import sys
import traceback

from cred_export import log
from cred_export.errors import EXIT_UNEXPECTED, CredExportError

CONTEXT_VARIABLE = "CLAUDE_HELPER_CONTEXT"


def main() -> int:
    """Print the token for Claude Desktop; the process exit code."""
    from cred_export.stores import StoreUnavailable

    context = os.environ.get(CONTEXT_VARIABLE, "").strip()
    log.debug(f"Claude Desktop helper, context {context!r}")
    try:
        from cred_export.flows.desktop_token import helper_token
        from cred_export.util.subprocesses import detach_stdin

        detach_stdin()
        token = helper_token(context)
    except CredExportError as exc:
        return _failed(str(exc), exc.exit_code)
    except StoreUnavailable as exc:
        return _failed(f'{exc}; try again, or set cache = "file" to keep off the OS keyring', EXIT_UNEXPECTED)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _failed(
            f"unexpected error: {type(exc).__name__} (run with CRED_EXPORT_DEBUG=1)", EXIT_UNEXPECTED
        )
    try:
        sys.stdout.write(token)
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(0)
    return 0


def _failed(message: str, code: int) -> int:
    if log.debug_enabled():
        traceback.print_exc(file=sys.stderr)
    log.error(message)
    return code
