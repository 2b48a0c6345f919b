"""The cache-hit path stays light: no boto3, botocore, click, keyring library or parsers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness.sandbox import EXECUTABLE

HEAVY = (
    "boto3",
    "botocore",
    "click",
    "keyring",
    "filelock",
    "configparser",
    "tomllib",
    "json",
    "tempfile",
    "datetime",
    "jwt",
    "cryptography",
)
# Each costs as much as the rest of a file-store hit; the Secret Service hit pays for some of
# them through jeepney, its one outside module.
HEAVY_FOR_A_FILE_HIT = ("re", "typing", "dataclasses", "enum")
# How many of cred-export's own modules a hit may load: no more than before the `fast` package
# (entry, hit, `fast` and its modules, credentials, files, log, paths, `stores` and its reader).
OWN_MODULES_ON_A_HIT = {"file": 15, "keyring": 17}

PROBE = (
    "import sys\n"
    "from cred_export.entry import main\n"
    "sys.argv = ['cred-export', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
)


def python_stderr(box, *argv: str) -> str:  # type: ignore[no-untyped-def]
    """What this interpreter run with `argv` in the sandbox writes to stderr (it must succeed)."""
    completed = subprocess.run(
        [sys.executable, *argv],
        env=box.env,
        cwd=box.root,  # not the checkout: import the installed package
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stderr


def loaded_modules_on_hit(box, profile: str, *command: str) -> set[str]:  # type: ignore[no-untyped-def]
    stderr = python_stderr(box, "-c", PROBE, *command, "--profile", profile)
    (line,) = [line for line in stderr.splitlines() if line.startswith("MODULES ")]
    return set(line.split()[1:])


# What Claude Code runs at every start (the export, `login` as awsAuthRefresh) and what Claude
# Desktop's helper runs (`bedrock-token`): each is a hit on a warm cache.
COMMANDS = {
    "export": (),
    "login": ("login",),
    "bedrock-token": ("bedrock-token", "--region", "eu-west-1"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("store", ["file", "keyring"])
def test_cache_hit_imports_nothing_heavy(request, store, command, sts):
    box = request.getfixturevalue("sandbox" if store == "file" else "keyring_sandbox")
    profile = box.role_chain(depth=1)
    assert box.run(*COMMANDS[command], "--profile", profile).code == 0  # fills the cache and the memo
    modules = loaded_modules_on_hit(box, profile, *COMMANDS[command])
    assert sts.calls["AssumeRole"] == 1, "the probe was not a cache hit"
    heavy_here = HEAVY + (HEAVY_FOR_A_FILE_HIT if store == "file" else ())
    heavy = sorted(m for m in modules if m.split(".")[0] in heavy_here)
    assert heavy == []
    own = sorted(m for m in modules if m.split(".")[0] == "cred_export")
    assert len(own) <= OWN_MODULES_ON_A_HIT[store], own


def test_a_miss_does_load_botocore(sandbox, sts):
    """Guards the guard: the probe really sees what a run imports."""
    profile = sandbox.role_chain(depth=1)
    assert "botocore" in loaded_modules_on_hit(sandbox, profile)


@pytest.mark.parametrize("command", ["login", "bedrock-token"])
def test_a_miss_of_login_and_bedrock_token_loads_botocore(sandbox, sts, command):
    """Guards the guard for the other two answers: a cold cache takes the full CLI."""
    profile = sandbox.role_chain(depth=1)
    assert "botocore" in loaded_modules_on_hit(sandbox, profile, *COMMANDS[command])


def test_the_console_script_itself_imports_no_regex(sandbox, sts):
    """pip < 25.2 writes console scripts that `import re` before `main` (a third of a file hit);
    scripts/setup installs a newer pip, and the README asks for one."""
    profile = sandbox.role_chain(depth=1)
    assert sandbox.run("--profile", profile).code == 0
    stderr = python_stderr(sandbox, "-X", "importtime", EXECUTABLE, "--profile", profile)
    imported = {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if "|" in line}
    assert "cred_export.entry" in imported
    assert "re" not in imported
