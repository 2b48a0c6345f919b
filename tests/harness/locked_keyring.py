"""A password-protected login keyring on a private D-Bus, and a monitor of the prompts asked there.

`PrivateBus` is a session bus whose configuration names no service directories, so nothing can
be D-Bus-activated on it: no second keyring daemon and no `gcr-prompter`. A `Prompt.Prompt`
call there cannot show a dialog; gnome-keyring answers it at once with `Completed(dismissed)`,
so a test that provokes one sees the call instead of hanging.

`LoginKeyring` runs gnome-keyring-daemon on that bus with a "login" collection protected by a
password (the collection behind the `default` alias), in one of three states: "unlocked",
"locked" (the password is on disk but was not given, as after a login without PAM), or
"missing" (no keyring file at all, so there is no default collection).

`BusMonitor` runs `dbus-monitor` on the bus and reports the Secret Service method calls that
unlock, create collections or show prompts.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

TOOLS = ("dbus-daemon", "dbus-send", "dbus-monitor", "gnome-keyring-daemon")
AVAILABLE = all(shutil.which(tool) for tool in TOOLS)

PASSWORD = b"login-password"
STATES = ("unlocked", "locked", "missing")
DEFAULT_ALIAS = "/org/freedesktop/secrets/aliases/default"

# The session bus of /usr/share/dbus-1/session.conf without <standard_session_servicedirs/>.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# What the monitor reports: every call that can unlock or show a dialog.
WATCHED = (
    ("org.freedesktop.Secret.Service", "Unlock"),
    ("org.freedesktop.Secret.Service", "CreateCollection"),
    ("org.freedesktop.Secret.Prompt", "Prompt"),
)
_MARK_INTERFACE = "org.credexport.TestMonitor"
_STEP = 0.05
# A dbus-monitor line: "method call time=… sender=… -> destination=… serial=… path=…; interface=…; member=…"
_CALL = re.compile(
    r"method call .* path=(?P<path>[^;]*); interface=(?P<interface>[^;]*); member=(?P<member>\S+)"
)


def _wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(_STEP)
    raise RuntimeError(f"timed out after {seconds:g} s waiting for {what}")


def _stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class PrivateBus:
    """`dbus-daemon` with the configuration above, forked; `stop` ends it."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        config = root / "bus.conf"
        config.write_text(_BUS_CONFIG)
        out = subprocess.run(
            ["dbus-daemon", f"--config-file={config}", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        ).stdout.split()
        self.address, self.pid = out[0], int(out[1])

    @property
    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def send(self, *args: str, timeout: float = 5) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["dbus-send", f"--bus={self.address}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )

    def has_owner(self, name: str) -> bool:
        reply = self.send(
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            f"string:{name}",
        )
        return "boolean true" in reply.stdout

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


class LoginKeyring:
    """gnome-keyring-daemon on `bus` with a password-protected "login" collection in `state`."""

    def __init__(self, root: Path, bus: PrivateBus, state: str) -> None:
        if state not in STATES:
            raise ValueError(state)
        self.root, self.bus, self.state = root, bus, state
        self.keyrings = root / "data" / "keyrings"
        self.daemon: subprocess.Popen | None = None  # type: ignore[type-arg]
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
        if state != "missing":
            # The first start with a password creates login.keyring, encrypted with it.
            self._start(unlock=True)
            _wait_for(lambda: (self.keyrings / "login.keyring").exists(), 10, "login.keyring")
            self.stop()
        self._start(unlock=state == "unlocked")
        found = self.default_collection_state()
        if found != state:
            self.stop()
            raise RuntimeError(f"the default collection is {found}, not {state}")

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            **self.bus.env,
        }

    def _start(self, *, unlock: bool) -> None:
        command = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlock:
            command.append("--unlock")
        self.log = open(self.root / "daemon.log", "ab")  # noqa: SIM115  (closed in stop)
        self.daemon = subprocess.Popen(
            command, env=self.env, stdin=subprocess.PIPE, stdout=self.log, stderr=self.log
        )
        if unlock:
            self.daemon.stdin.write(PASSWORD)  # type: ignore[union-attr]
        self.daemon.stdin.close()  # type: ignore[union-attr]
        _wait_for(lambda: self.bus.has_owner("org.freedesktop.secrets"), 10, "the Secret Service on the bus")

    def default_collection_state(self) -> str:
        """The default collection: "unlocked", "locked" or "missing" (its alias names no collection)."""
        reply = self.bus.send(
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            DEFAULT_ALIAS,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        )
        if reply.returncode != 0:
            return "missing"
        return "locked" if "boolean true" in reply.stdout else "unlocked"

    def stop(self) -> None:
        if self.daemon is not None:
            _stop(self.daemon)
            self.daemon = None
            self.log.close()
            _wait_for(lambda: not self.bus.has_owner("org.freedesktop.secrets"), 10, "the daemon to leave")


class BusMonitor:
    """`dbus-monitor` on the bus, started and drained with a marker signal so nothing is missed."""

    def __init__(self, bus: PrivateBus, log: Path) -> None:
        self.bus, self.log = bus, log
        rules = [f"type='method_call',interface='{i}',member='{m}'" for i, m in WATCHED]
        rules.append(f"type='signal',interface='{_MARK_INTERFACE}'")
        self._out = open(log, "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            ["dbus-monitor", "--address", bus.address, *rules],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        self._marks = 0
        self.mark()

    def mark(self) -> None:
        """Send a marker signal and wait until the monitor has written it: whatever the bus
        routed before it is in the log by then."""
        self._marks += 1
        member = f"Mark{self._marks}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dbus-monitor exited: {self.log.read_text(errors='replace')}")
            self.bus.send("--type=signal", "/org/credexport/TestMonitor", f"{_MARK_INTERFACE}.{member}")
            if f"member={member}" in self.log.read_text(errors="replace"):
                return
            time.sleep(_STEP)
        raise RuntimeError("dbus-monitor never reported the marker signal")

    def calls(self) -> list[str]:
        """The watched calls seen so far, as "Interface.Member path" lines."""
        self.mark()
        seen = []
        for line in self.log.read_text(errors="replace").splitlines():
            call = _CALL.match(line)
            if call and (call["interface"], call["member"]) in WATCHED:
                seen.append(f"{call['interface']}.{call['member']} {call['path']}")
        return seen

    def stop(self) -> None:
        _stop(self.process)
        self._out.close()
