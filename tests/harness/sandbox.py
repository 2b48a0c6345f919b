"""Run the installed `cred-export` as a subprocess in a private HOME, and watch for leaks.

After every run (and every `popen` process, when the test calls `communicate`), the leak
detector learns the secrets the run handled (printed credentials, and what its stores now
hold: cached records, refresh and access tokens, client secrets), then fails the test if any
secret it has ever seen appears on stderr or in a file the run created or changed under HOME
outside the stores, or if a store file holding one is not 0600 in a 0700 directory.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

EXECUTABLE = str(Path(sys.executable).with_name("cred-export"))

# Every secret any test has seen; stderr of every run is checked against all of them.
SEEN_SECRETS: set[str] = set()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)

    @property
    def credentials(self) -> dict[str, str]:
        return self.json["Credentials"]


def random_keys() -> tuple[str, str]:
    alphabet = string.ascii_uppercase + string.digits
    key_id = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    return key_id, secret


class Sandbox:
    """A HOME, AWS config files and cred-export settings of a test's own."""

    def __init__(self, root: Path, sts_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.home = root / "home"
        (self.home / ".aws").mkdir(parents=True)
        self.key_id, self.secret = random_keys()
        remember_secret(self.secret)
        remember_secret(self.key_id)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "AWS_CONFIG_FILE": str(self.home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / ".aws" / "credentials"),
            "AWS_ENDPOINT_URL_STS": sts_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CRED_EXPORT_SYSTEM_CONFIG": str(root / "system-config.toml"),
            **(extra_env or {}),
        }

    @property
    def cache_dir(self) -> Path:
        return self.home / ".cache" / "cred-export"

    def write_aws_config(self, text: str) -> None:
        (self.home / ".aws" / "config").write_text(text)

    def write_credentials(self, text: str | None = None) -> None:
        text = (
            text
            if text is not None
            else (f"[base]\naws_access_key_id = {self.key_id}\naws_secret_access_key = {self.secret}\n")
        )
        (self.home / ".aws" / "credentials").write_text(text)

    def write_settings(self, text: str) -> None:
        path = self.home / ".config" / "cred-export" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def role_chain(self, depth: int = 2, **role_settings: str) -> str:
        """Profiles base (static keys) → role1 → … → role{depth}; returns the last name."""
        self.write_credentials()
        lines = []
        source = "base"
        for n in range(1, depth + 1):
            lines.append(
                f"[profile role{n}]\nrole_arn = arn:aws:iam::123456789012:role/role{n}\n"
                f"source_profile = {source}\n"
            )
            source = f"role{n}"
        extra = "".join(f"{k} = {v}\n" for k, v in role_settings.items())
        self.write_aws_config("".join(lines) + extra)
        return source

    def cached_files(self) -> list[Path]:
        directory = self.cache_dir / "credentials"
        return (
            sorted(p for p in directory.glob("*") if not p.name.startswith(".")) if directory.exists() else []
        )

    def set_cached_expiry(self, seconds_from_now: int) -> None:
        """Rewrite the one cached credential record so it expires `seconds_from_now` from now, as
        if time had passed: its lifetime (expiry minus when it was issued) stays what it was."""
        (path,) = [
            p for p in self.cached_files() if p.read_text(errors="ignore").startswith("cred-export-record")
        ]
        path.write_text(age_record(path.read_text(), seconds_from_now))

    def cache_key(self, profile: str) -> str:
        """The cache key cred-export derives for `profile` in this sandbox."""
        code = (
            "import sys\n"
            "from cred_export.aws.config import load_aws_config\n"
            "from cred_export.chain import resolve_chain\n"
            "print(resolve_chain(load_aws_config(), sys.argv[1], profile_named=True).cache_key())\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", code, profile],
            env=self.env,
            cwd=self.root,  # not the checkout: import the installed package
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return completed.stdout.strip()

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        before = self.file_identities(env)
        completed = subprocess.run(
            [EXECUTABLE, *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        learn_secrets(result.stdout)
        self.check_for_leaks(result.stderr, before, env)
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return WatchedProcess(self, env, [EXECUTABLE, *args])

    def store_directories(self, env: dict[str, str] | None = None) -> list[Path]:
        """Where cred-export keeps secrets by design: the file store, and the token caches it
        shares with the AWS CLI (SSO tokens, `aws login` sessions)."""
        merged = {**self.env, **(env or {})}
        login_cache = Path(merged.get("AWS_LOGIN_CACHE_DIRECTORY") or self.home / ".aws" / "login" / "cache")
        return [self.cache_root(env) / "credentials", self.home / ".aws" / "sso" / "cache", login_cache]

    def cache_root(self, env: dict[str, str] | None = None) -> Path:
        """cred-export's cache directory for a run with `env` (file store, memos, locks)."""
        merged = {**self.env, **(env or {})}
        if merged.get("CRED_EXPORT_CACHE_DIR"):
            return Path(merged["CRED_EXPORT_CACHE_DIR"])
        base = merged.get("XDG_CACHE_HOME") or str(self.home / ".cache")
        return Path(base) / "cred-export"

    def watched_roots(self, env: dict[str, str] | None = None) -> list[Path]:
        """HOME, and the cache directory too when a run puts it elsewhere."""
        cache = self.cache_root(env)
        return [self.home] if cache.is_relative_to(self.home) else [self.home, cache]

    def file_identities(self, env: dict[str, str] | None = None) -> dict[Path, tuple[int, int, int]]:
        return {path: identity for root in self.watched_roots(env) for path, identity in _files_under(root)}

    def check_for_leaks(
        self, stderr: str, before: dict[Path, tuple[int, int, int]], env: dict[str, str] | None = None
    ) -> None:
        """Learn what the stores hold now, then fail on any secret outside them or a loose store file."""
        stores = self.store_directories(env)
        harvest_store_secrets(stores)
        assert_no_leak(stderr)
        for path, identity in self.file_identities(env).items():
            if before.get(path) != identity:
                assert_file_is_safe(path, stores)


class WatchedProcess(subprocess.Popen):
    """A cred-export process whose output and files get the leak check when `communicate` returns."""

    def __init__(self, box: Sandbox, env: dict[str, str] | None, argv: list[str]) -> None:
        self._box, self._env = box, env
        self._before = box.file_identities(env)
        super().__init__(
            argv,
            env={**box.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        out, err = super().communicate(input, timeout)
        learn_secrets(out or "")
        self._box.check_for_leaks(err or "", self._before, self._env)
        return out, err


def remember_secret(value: str) -> None:
    # Shorter values are test placeholders ("token", "s"), which would match ordinary words.
    if len(value) >= 8:
        SEEN_SECRETS.add(value)


def learn_secrets(stdout: str) -> None:
    """Add every credential value printed on stdout to the set that stderr must never show."""
    try:
        document = json.loads(stdout)
    except ValueError:
        for line in stdout.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            if name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                remember_secret(value.strip("'"))
        return
    creds = document.get("Credentials", document) if isinstance(document, dict) else {}
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        if isinstance(creds.get(name), str):
            remember_secret(creds[name])


def assert_no_leak(text: str) -> None:
    leaked = [value for value in SEEN_SECRETS if value in text]
    assert not leaked, (
        f"secret material on stderr: {len(leaked)} value(s), e.g. …{leaked[0][-4:]} ({len(leaked[0])} chars)"
    )


# What an access key id looks like: an identifier shown masked in logs, but not a secret
# (the resolution memo keeps the environment's AWS_ACCESS_KEY_ID to tell roots apart).
_KEY_ID_PREFIXES = ("AKIA", "ASIA")
# Store files are read up to this size when harvesting or scanning.
_SCAN_LIMIT = 8 << 20
_SSO_SECRET_FIELDS = ("accessToken", "refreshToken", "clientSecret")
_CONSOLE_SECRET_FIELDS = ("dpopKey", "idToken")


def _files_under(root: Path) -> list[tuple[Path, tuple[int, int, int]]]:
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if not path.is_symlink():
                found.append((path, (st.st_ino, st.st_size, st.st_mtime_ns)))
    return found


def _read_for_scan(path: Path) -> str:
    return _scan(path)[0]


def _scan(path: Path) -> tuple[str, int | None]:
    """A file's text and mode, both from one open handle; ("", None) when it is gone or not a file.

    Other processes may still be running: a temporary file can be renamed away between
    the directory walk and this read, and reading and checking through one handle keeps
    the mode that of the text read.
    """
    if not path.is_file():  # a FIFO a test put where a file belongs: opening it would block
        return "", None
    try:
        with open(path, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            return handle.read(_SCAN_LIMIT).decode("utf-8", "replace"), mode
    except OSError:
        return "", None


def harvest_store_secrets(stores: list[Path]) -> None:
    """Remember every secret the stores hold: record and text entries, SSO tokens and clients."""
    for store in stores:
        for path, _ in _files_under(store) if store.is_dir() else []:
            text = _read_for_scan(path)
            if path.suffix == ".json":
                _harvest_json(text)
            else:
                for line in text.split("\n")[1:] if text.startswith("cred-export-") else text.split("\n"):
                    if not line.isdigit():
                        remember_secret(line.strip())


def _harvest_json(text: str) -> None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # tests plant hostile token files too
        return
    if isinstance(document, dict):
        for field in _SSO_SECRET_FIELDS + _CONSOLE_SECRET_FIELDS:
            if isinstance(document.get(field), str):
                remember_secret(document[field])
        access = document.get("accessToken")
        if isinstance(access, dict):  # an `aws login` session
            for field in ("secretAccessKey", "sessionToken"):
                if isinstance(access.get(field), str):
                    remember_secret(access[field])


def is_key_id(value: str) -> bool:
    return value.startswith(_KEY_ID_PREFIXES) and len(value) == 20 and value.isalnum()


def assert_file_is_safe(path: Path, stores: list[Path]) -> None:
    """No secret outside the stores; inside them, secrets only in 0600 files in 0700 directories."""
    text, file_mode = _scan(path)
    held = [value for value in SEEN_SECRETS if value in text and not is_key_id(value)]
    if not held:
        return
    in_store = any(path.is_relative_to(store) for store in stores)
    assert in_store, (
        f"secret material in {path}: {len(held)} value(s), e.g. …{held[0][-4:]} ({len(held[0])} chars)"
    )
    if os.name == "posix":
        directory_mode = stat.S_IMODE(path.parent.stat().st_mode)
        assert file_mode == 0o600, f"{path} holds a secret with mode {oct(file_mode)}"
        assert directory_mode == 0o700, f"{path.parent} holds secrets with mode {oct(directory_mode)}"


def read_until_url(process: subprocess.Popen, containing: str = "", timeout: float = 30) -> str:
    """The first http://127.0.0.1 URL with `containing` a running command prints (the sign-in link)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        for word in line.split():
            if word.startswith("http://127.0.0.1") and containing in word:
                return word
    process.kill()
    raise AssertionError("the command printed no URL")


def age_record(text: str, seconds_left: int) -> str:
    """A cache record (`cred_export.fast.record`) made to expire `seconds_left` from now, as if time had
    passed: expiry and issue time move together, so its lifetime stays what it was."""
    import time

    lines = text.split("\n")
    expiry, issued = int(lines[4]), int(lines[5])
    new_expiry = int(time.time()) + seconds_left
    lines[4] = str(new_expiry)
    if issued:
        lines[5] = str(max(1, new_expiry - (expiry - issued)))
    return "\n".join(lines)
