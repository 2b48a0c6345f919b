"""Private files: 0700 directories, 0600 files, written atomically (temp file + rename)."""

from __future__ import annotations

import os


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
    """Replace `path` with `text`, 0600 in a 0700 directory, atomically."""
    ensure_private_dir(os.path.dirname(path))
    write_atomic(path, text.encode("utf-8"), 0o600)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Replace `path` with `data` (permission bits `mode`) so readers see the old or the new
    file, never a mix: a temp file in the same directory, fsync, rename."""
    import tempfile  # not at the top: this module is on the cache-hit path, tempfile is not

    directory, name = os.path.split(os.fspath(path))
    fd, temp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode != 0o600:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    """The file's text, or None if it is missing, unreadable, oversized or not UTF-8."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
