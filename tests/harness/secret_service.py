"""A real Secret Service: a private D-Bus session bus with gnome-keyring-daemon on it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

AVAILABLE = bool(shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon"))


class SecretService:
    """Starts `dbus-daemon --session` and `gnome-keyring-daemon` (unlocked or locked)."""

    def __init__(self, root: Path, *, unlocked: bool = True) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=self._base_env(),
        ).stdout.split()
        self.address, self.bus_pid = out[0], int(out[1])
        env = {**self._base_env(), "DBUS_SESSION_BUS_ADDRESS": self.address}
        command = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlocked:
            command.insert(2, "--unlock")
        self.daemon = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if unlocked:
            self.daemon.stdin.write(b"test-password")  # type: ignore[union-attr]
        self.daemon.stdin.close()  # type: ignore[union-attr]
        self._wait_until_registered()

    def _base_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(self._runtime_dir()),
        }

    def _runtime_dir(self) -> Path:
        path = self.root / "run"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    @property
    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def _wait_until_registered(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                [
                    "dbus-send",
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ],
                env={**self._base_env(), **self.env},
                capture_output=True,
                text=True,
                timeout=5,
            )
            if "boolean true" in probe.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("gnome-keyring-daemon did not register on the bus")

    def freeze(self) -> None:
        os.kill(self.daemon.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.daemon.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.daemon.terminate()
        try:
            self.daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
        try:
            os.kill(self.bus_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
