"""Run the installed `cred-export` as a subprocess in a private HOME, and watch for leaks."""

from __future__ import annotations

import json
import os
import secrets
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
        """Rewrite the one cached credential record so it expires `seconds_from_now` from now."""
        import time

        (path,) = [
            p for p in self.cached_files() if p.read_text(errors="ignore").startswith("cred-export-record")
        ]
        lines = path.read_text().split("\n")
        lines[4] = str(int(time.time()) + seconds_from_now)
        path.write_text("\n".join(lines))

    def cache_key(self, profile: str) -> str:
        """The cache key cred-export derives for `profile` in this sandbox."""
        code = (
            "import sys\n"
            "from cred_export.aws_config import load_aws_config\n"
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
        assert_no_leak(result.stderr)
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [EXECUTABLE, *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


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
