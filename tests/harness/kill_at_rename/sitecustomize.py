"""On PYTHONPATH, with KILL_AT_RENAME_ONTO=<path>: the process SIGKILLs itself at the moment it
would rename a file onto <path>, after the temporary file is written and before the rename, as
a kill from outside landing exactly there would."""

import os
import signal

_TARGET = os.environ.get("KILL_AT_RENAME_ONTO")

if _TARGET:
    _replace = os.replace

    def _replace_or_die(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.abspath(os.fspath(dst)) == os.path.abspath(_TARGET):
            os.kill(os.getpid(), signal.SIGKILL)
        return _replace(src, dst, *args, **kwargs)

    os.replace = _replace_or_die
