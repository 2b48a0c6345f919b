"""Tracebacks for `--debug`, fit for a terminal like every other line cred-export writes.

An exception's message may carry what a service sent (an error code with an escape sequence)
or quote a proxy URL: each line is masked (`text.scrub_proxy_secrets`) and made printable.
"""

from __future__ import annotations

import sys
import traceback

from cred_export import log
from cred_export.util.text import printable, scrub_proxy_secrets


def show_if_debugging() -> None:
    """The exception being handled, on stderr, when debugging is on."""
    if not log.debug_enabled():
        return
    lines = scrub_proxy_secrets(traceback.format_exc()).splitlines()
    try:
        sys.stderr.write("".join(printable(line) + "\n" for line in lines))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
