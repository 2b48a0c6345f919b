"""Per-key cross-process locks: single-flight renewals, released by the kernel on death."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import filelock

from cred_export import files, log, paths
from cred_export.errors import CredExportError


class KeyLock:
    """An advisory lock file per key (flock on POSIX, msvcrt locking on Windows).

    The kernel drops the lock when its holder exits for any reason, SIGKILL included, so a
    dead holder never blocks the next call.
    """

    def __init__(self, key: str) -> None:
        self.directory = os.path.join(paths.cache_dir(), "locks")
        self.path = os.path.join(self.directory, f"{key}.lock")
        self._lock = filelock.FileLock(self.path, mode=0o600)

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now."""
        return self.acquire(0)

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the lock; False if it stayed busy.

        A lock file that cannot be created (a read-only or full disk, a home nobody may write)
        counts as taken: the caller goes ahead without single flight rather than failing.
        """
        try:
            files.ensure_private_dir(self.directory)
            self._distrust_foreign_file()
            self._lock.acquire(timeout=timeout, poll_interval=0.02)
        except filelock.Timeout:
            return False
        except OSError as exc:
            log.debug(f"cannot lock {self.path} ({exc.strerror}): going ahead without the lock")
        return True

    def _distrust_foreign_file(self) -> None:
        """A lock file that is not the user's own (planted, or loosened) is removed, not used."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode) or not files.is_own(st):
            log.debug(f"removing {self.path}: not this user's own lock file")
            os.unlink(self.path)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        """Hold the lock for the block, waiting up to `timeout` s (0: only if free right now).

        Yields whether it was taken; the block decides what a busy lock means.
        """
        taken = self.acquire(timeout)
        try:
            yield taken
        finally:
            if taken:
                self.release()


def file_lock_name(path: str) -> str:
    """The lock of a file other tools share (an SSO token, an `aws login` session): every process
    that renews, signs in to or deletes that file holds it, so none undoes another's write."""
    return "file-" + hashlib.sha256(os.path.abspath(path).encode("utf-8")).hexdigest()[:40]


@contextmanager
def holding_file(path: str, timeout: float, what: str) -> Iterator[None]:
    """Hold the file's lock (`file_lock_name`) for the block; CredExportError if it stays busy."""
    key_lock = KeyLock(file_lock_name(path))
    taken = key_lock.try_acquire()
    if not taken:
        log.debug(f"waiting for the lock of {path}: another cred-export is renewing {what}")
        taken = key_lock.acquire(timeout)
    if not taken:
        raise CredExportError(
            f"another cred-export has been renewing {what} for over {timeout:g} s; try again"
            f" (lock file {key_lock.path})"
        )
    try:
        yield
    finally:
        key_lock.release()
