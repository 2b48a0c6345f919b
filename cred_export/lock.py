"""Per-key cross-process locks: single-flight refreshes, released by the kernel on death."""

from __future__ import annotations

import os

import filelock

from cred_export import files, paths


class KeyLock:
    """An advisory lock file per cache key (flock on POSIX, msvcrt locking on Windows).

    The kernel drops the lock when its holder exits for any reason, SIGKILL included, so a
    dead refresher never blocks the next call.
    """

    def __init__(self, key: str) -> None:
        directory = files.ensure_private_dir(os.path.join(paths.cache_dir(), "locks"))
        self.path = os.path.join(directory, f"{key}.lock")
        self._lock = filelock.FileLock(self.path, mode=0o600)

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now."""
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the lock; False if it stayed busy."""
        try:
            self._lock.acquire(timeout=timeout, poll_interval=0.02)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
