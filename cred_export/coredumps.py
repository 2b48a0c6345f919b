"""Core dumps off while secrets are in memory: a crash must not write them to a core file.

The soft RLIMIT_CORE goes to 0 first thing in every run (`entry.main`). `resource` is a small C
module: importing it and setting the limit costs about a third of a millisecond, measured, so the
cache-hit path does it too. systemd-coredump and apport, where `core_pattern` pipes dumps to
them, honour the limit as well.

Not `prctl(PR_SET_DUMPABLE, 0)`: besides costing ctypes, it broke the Secret Service under load —
32 concurrent exports on gnome-keyring no longer all saw the one renewal's credentials
(tests/test_concurrency.py).
"""

from __future__ import annotations


def disable() -> None:
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass  # not POSIX, or a limit this process may not change: nothing more to do
