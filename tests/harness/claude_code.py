"""The real Claude Code CLI (npm `@anthropic-ai/claude-code`, pinned in tests/claude_code), run headless.

`ClaudeCode` starts `claude -p PROMPT` the way a user's machine would, in a sandbox's HOME whose
`~/.claude/settings.json` names cred-export's hooks, in Bedrock mode against a Bedrock stand-in
(`ANTHROPIC_BEDROCK_BASE_URL`). Every start:

- counts how often each hook ran: each hook command is prefixed with a line that appends its
  name to a log (Claude Code runs hooks through `/bin/sh`), read and emptied after the start;
- runs under `strace -f` and reports every address Claude Code, the hooks and their children
  connected or sent to, so a test can assert that nothing left the loopback interface;
- is bounded: Claude Code's own retries are capped (`CLAUDE_CODE_MAX_RETRIES`) and the process
  is killed after `timeout` seconds.

Traffic Claude Code would send elsewhere is switched off: `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`
(telemetry, error reporting, update checks, release notes) and, belt and braces, the switches it
covers one by one; `AWS_EC2_METADATA_DISABLED` (from the sandbox) keeps its AWS SDK off the
instance metadata address.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.sandbox import EXECUTABLE, Sandbox

ROOT = Path(__file__).resolve().parent.parent / "claude_code"
VERSION = "2.1.332"
CLI = ROOT / "node_modules" / ".bin" / "claude"
INSTALL_TIMEOUT = 600.0
HOOKS = ("awsCredentialExport", "awsAuthRefresh")
REGION = "us-east-1"
QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
}
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\),[^{}]*?inet_pton\(AF_INET6, "([^"]+)"')
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
# strace, following every child, writing to the file named next the calls that name an address.
ADDRESSED_CALLS = "trace=connect,sendto,sendmsg,sendmmsg"
WATCH_CONNECTIONS = ("strace", "-f", "--seccomp-bpf", "-qq", "-e", ADDRESSED_CALLS, "-o")


def installed() -> bool:
    return CLI.exists()


def can_install() -> bool:
    return shutil.which("npm") is not None


def ensure_installed(timeout: float = INSTALL_TIMEOUT) -> Path:
    """Install the pinned CLI from package-lock.json (`npm ci`) unless it is there; its path."""
    if not installed():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed; it is needed to install tests/claude_code")
        command = [npm, "ci", "--prefix", str(ROOT), "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(
            command, timeout=timeout, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm ci failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    version = subprocess.run(
        [str(CLI), "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    if not version.stdout.startswith(VERSION):
        raise RuntimeError(f"{CLI} is not Claude Code {VERSION}: {(version.stdout + version.stderr).strip()}")
    return CLI


@dataclass
class Start:
    """One `claude -p` run: its exit code, output, the hooks it ran and where it connected."""

    code: int
    stdout: str
    stderr: str
    hooks: Counter[str]
    destinations: set[tuple[str, int]] = field(default_factory=set)

    @property
    def off_loopback(self) -> set[tuple[str, int]]:
        """Addresses outside 127.0.0.1/::1, and DNS on any address (a lookup leaves the machine)."""
        return {(host, port) for host, port in self.destinations if host not in LOOPBACK or port == 53}


class ClaudeCode:
    """Claude Code wired to cred-export in `box`, talking to the Bedrock stand-in at `bedrock_url`."""

    def __init__(self, box: Sandbox, bedrock_url: str, cli: Path = CLI) -> None:
        self.box = box
        self.cli = cli
        self.bedrock_url = bedrock_url
        self.hook_log = box.root / "hooks.log"
        self.project = box.root / "project"
        self.project.mkdir(exist_ok=True)

    @property
    def settings_path(self) -> Path:
        return self.box.home / ".claude" / "settings.json"

    def wire(self, profile: str) -> dict[str, object]:
        """`cred-export setup claude` for `profile`, as a user would, then every hook counted;
        the settings as setup wrote them."""
        result = self.box.run("setup", "claude", "--profile", profile, "--region", REGION)
        assert result.code == 0, result.stderr
        settings = json.loads(self.settings_path.read_text())
        assert settings["awsCredentialExport"] == f"{EXECUTABLE} --profile {profile}"
        assert settings["awsAuthRefresh"] == f"{EXECUTABLE} login --profile {profile}"
        self.count_hooks(settings)
        return settings

    def count_hooks(self, settings: dict[str, object]) -> None:
        """Write `settings` with every hook first appending its name to the hook log."""
        counted = dict(settings)
        for hook in HOOKS:
            if isinstance(settings.get(hook), str):
                counted[hook] = (
                    f"printf '%s\\n' {hook} >> {shlex.quote(str(self.hook_log))}; {settings[hook]}"
                )
        self.settings_path.parent.mkdir(parents=True, exist_ok=True)
        self.settings_path.write_text(json.dumps(counted, indent=2))

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            **self.box.env,
            **QUIET,
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "AWS_REGION": REGION,
            "ANTHROPIC_BEDROCK_BASE_URL": self.bedrock_url,
            "CLAUDE_CODE_MAX_RETRIES": "1",
            **(extra or {}),
        }

    def start(
        self, prompt: str = "Say hello.", *, env: dict[str, str] | None = None, timeout: float = 120
    ) -> Start:
        """`claude -p PROMPT` in the project directory; no secret may show on its stderr or in new files."""
        self.hook_log.write_text("")
        trace = self.box.root / "strace.log"
        before = self.box.file_identities()
        process = subprocess.Popen(
            [*WATCH_CONNECTIONS, str(trace), str(self.cli), "-p", prompt],
            env=self.environment(env),
            cwd=self.project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # one process group: Claude Code, its hooks and their children
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            raise AssertionError(
                f"claude -p did not finish within {timeout} s: {(out + err)[-2000:]}"
            ) from None
        hooks = Counter(line for line in self.hook_log.read_text().splitlines() if line)
        start = Start(process.returncode, out, err, hooks, destinations(trace))
        self.box.check_for_leaks(err + out, before)
        return start


def destinations(trace: Path) -> set[tuple[str, int]]:
    """Every (address, port) in an strace log of the calls that name an address."""
    text = trace.read_text(errors="replace") if trace.exists() else ""
    found = {(host, int(port)) for port, host in _INET.findall(text)}
    return found | {(host, int(port)) for port, host in _INET6.findall(text)}
