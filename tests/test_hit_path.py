"""The cache-hit path stays light: no boto3, botocore, click, keyring library or parsers."""

from __future__ import annotations

import subprocess
import sys

import pytest

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

PROBE = (
    "import sys\n"
    "from cred_export.entry import main\n"
    "sys.argv = ['cred-export', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
)


def loaded_modules_on_hit(box, profile: str) -> set[str]:  # type: ignore[no-untyped-def]
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, "--profile", profile],
        env=box.env,
        cwd=box.root,  # not the checkout: import the installed package
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    (line,) = [line for line in completed.stderr.splitlines() if line.startswith("MODULES ")]
    return set(line.split()[1:])


@pytest.mark.parametrize("store", ["file", "keyring"])
def test_cache_hit_imports_nothing_heavy(request, store, sts):
    box = request.getfixturevalue("sandbox" if store == "file" else "keyring_sandbox")
    profile = box.role_chain(depth=1)
    assert box.run("--profile", profile).code == 0  # fills the cache and the memo
    modules = loaded_modules_on_hit(box, profile)
    assert sts.calls["AssumeRole"] == 1, "the probe was not a cache hit"
    heavy_here = HEAVY + (HEAVY_FOR_A_FILE_HIT if store == "file" else ())
    heavy = sorted(m for m in modules if m.split(".")[0] in heavy_here)
    assert heavy == []


def test_a_miss_does_load_botocore(sandbox, sts):
    """Guards the guard: the probe really sees what a run imports."""
    profile = sandbox.role_chain(depth=1)
    assert "botocore" in loaded_modules_on_hit(sandbox, profile)
