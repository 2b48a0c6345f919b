"""Runtime hook: child processes get the caller's library path, not the bundle's.

On Linux the bootloader prepends the bundle's directory to LD_LIBRARY_PATH (keeping the
original in LD_LIBRARY_PATH_ORIG) and restarts itself, so the bundled libpython, OpenSSL and
friends are found. Children inherit the environment, so a `credential_process`, a SAML helper
or the browser `login` opens would load the bundle's libraries instead of their own. The
dynamic loader of this process read LD_LIBRARY_PATH when it started; restoring the original
here changes only what children see.
"""

import os
import sys


def _restore_library_path() -> None:
    bundle_dir = getattr(sys, "_MEIPASS", None)
    current = os.environ.get("LD_LIBRARY_PATH")
    if not bundle_dir or current is None or current.split(os.pathsep)[0] != bundle_dir:
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        del os.environ["LD_LIBRARY_PATH"]
    else:
        os.environ["LD_LIBRARY_PATH"] = original


_restore_library_path()
