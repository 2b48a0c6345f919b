"""Private files: 0700 directories, 0600 files, written atomically (temp file + rename).

What cred-export reads back from its own cache, and from the caches it shares with the AWS CLI
(SSO tokens, `aws login` sessions), is trusted only when it is the user's: a file owned by
another user, or writable by group or others, reads as absent (as ssh treats its files), and a
cache directory that others could write into is refused. Anything but a regular file (a FIFO,
a device) reads as absent too, without blocking: it is opened non-blocking and checked first.
"""

from __future__ import annotations

import os
import stat


class WriteFailed(OSError):
    """A file could not be written; `filename` is the file meant (never a temp file's name)."""


def unwritable(path: str) -> str | None:
    """Why `path` (a folder when it ends in a separator) could not be created or replaced now,
    e.g. "Read-only file system", or None.

    Looks at the nearest existing folder on the way to it and writes nothing: a check made
    before an interactive sign-in, so that what it gets is not lost for want of a place to keep it.
    """
    full = os.path.abspath(path)
    directory = full if path.endswith(os.sep) else os.path.dirname(full)  # "dir/": the folder itself
    for _ in range(64):
        if os.path.isdir(directory):
            break
        if os.path.lexists(directory):
            return "Not a directory"
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    if os.access(directory, os.W_OK | os.X_OK):
        return None
    import errno  # not at the top: this module is on the cache-hit path

    if hasattr(os, "statvfs") and os.statvfs(directory).f_flag & os.ST_RDONLY:
        return os.strerror(errno.EROFS)
    return os.strerror(errno.EACCES)


def ensure_private_dir(path: str) -> str:
    """Create `path` and every missing parent as 0700; tighten `path` if it is looser."""
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.isdir(parent):
        ensure_private_dir(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if os.name == "posix" and os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o700)
    return path


def write_private(path: str, text: str) -> None:
    """Replace `path` with `text`, 0600 in a 0700 directory, atomically (WriteFailed naming `path`)."""
    try:
        ensure_private_dir(os.path.dirname(path))
    except WriteFailed:
        raise
    except OSError as exc:
        raise WriteFailed(exc.errno, exc.strerror, path) from None
    write_atomic(path, text.encode("utf-8"), 0o600)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Replace `path` with `data` (permission bits `mode`) so readers see the old or the new
    file, never a mix: a temp file in the same directory, fsync, rename.

    WriteFailed, naming `path` (not the temp file), when it cannot be written."""
    import tempfile  # not at the top: this module is on the cache-hit path, tempfile is not

    directory, name = os.path.split(os.fspath(path))
    try:
        fd, temp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")  # 0600
    except OSError as exc:
        raise WriteFailed(exc.errno, exc.strerror, os.fspath(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode != 0o600:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise WriteFailed(exc.errno, exc.strerror, os.fspath(path)) from None
        raise


def remove_strays(path: str) -> list[str]:
    """Delete the temporary files `write_atomic` left next to `path` when a process writing it
    was killed before its rename (they may hold the secrets the file would have); their paths."""
    directory, name = os.path.split(os.fspath(path))
    prefix = f".{name}."
    try:
        candidates = [entry for entry in os.listdir(directory or ".") if entry.startswith(prefix)]
    except OSError:
        return []
    removed = []
    for entry in candidates:
        if entry.endswith(".tmp") and len(entry) > len(prefix) + len(".tmp"):
            stray = os.path.join(directory, entry)
            try:
                os.unlink(stray)
                removed.append(stray)
            except OSError:
                continue
    return removed


def read_text(path: str, limit: int = 1 << 20, *, private: bool = False) -> str | None:
    """The file's text, or None if it is missing, unreadable, not a regular file, oversized or not
    UTF-8 — or, with `private`, not the user's own (another owner, or writable by group or others)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (private and not is_own(st)):
            _ignored(path, "not a regular file" if not stat.S_ISREG(st.st_mode) else "not this user's own")
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(limit + 1)
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


CONFIG_LIMIT = 4 << 20  # a configuration file larger than this is a mistake, not a configuration


def read_config(path: str, limit: int = CONFIG_LIMIT) -> str | None:
    """A configuration file's text; None if it does not exist. ConfigError naming the file when it
    is not a regular file (a FIFO is never waited on), larger than `limit`, unreadable or not UTF-8."""
    from cred_export.errors import ConfigError  # not at the top: this module is on the hit path

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ConfigError(f"cannot read {path}: it is not a regular file")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise ConfigError(f"cannot read {path}: it is larger than {limit >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot parse {path}: it is not UTF-8 text") from None


def read_json(path: str, limit: int, *, private: bool = True, settle: float = 1.0) -> object | None:
    """The JSON document in a file another tool rewrites in place (the AWS CLI truncates, then
    writes): a file that is there but empty or not JSON may be half-written, so it is read again,
    for up to `settle` seconds, before it counts as absent. None when absent or unreadable."""
    import json
    import time

    ends = time.monotonic() + settle
    pause = 0.05
    while True:
        text = read_text(path, limit, private=private)
        if text is None:
            return None
        try:
            return json.loads(text)
        except RecursionError:
            return None  # a document, and a hostile one: nothing a finished write would change
        except ValueError:
            pass
        if time.monotonic() + pause > ends:
            return None
        _ignored(path, "empty or not JSON, perhaps half-written; reading it again")
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def _ignored(path: str, why: str) -> None:
    from cred_export import log

    log.debug(f"{path}: {why}")


def is_own(st: os.stat_result) -> bool:
    """Whether a file is the user's alone to change: owned by this user, not group/world-writable."""
    if os.name != "posix":
        return True  # Windows: the per-user profile directory's ACLs do this job
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def refuse_untrusted_dir(path: str) -> None:
    """ConfigError when the directory exists and someone else could put files in it."""
    try:
        st = os.stat(path)
    except OSError:
        return  # missing: it is created 0700
    if not is_own(st):
        from cred_export.errors import ConfigError  # not at the top: this module is on the hit path

        owner = (
            "owned by another user"
            if os.name == "posix" and st.st_uid != os.geteuid()
            else "writable by others"
        )
        raise ConfigError(
            f"the cache directory {path} is {owner}: use a private one (set CRED_EXPORT_CACHE_DIR, or"
            f" chmod 700 {path})"
        )
