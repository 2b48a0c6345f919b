"""What reaches the terminal from elsewhere, and what a crash could write: against the installed
program.

- A service's error code with escape sequences (an OSC title, a screen clear, a bidi override)
  reaches neither `doctor` (text or JSON) nor a `--debug` traceback raw.
- A proxy's credentials are masked in every form: a token as the user part alone
  (`http://TOKEN@proxy`), and a password with an unencoded `/`, which urllib3's parse error
  quotes in part.
- Core dumps are off: every run sets its soft RLIMIT_CORE to 0 (seen from outside, in /proc),
  the cache-hit path too, without loading anything heavy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultkit import random_token, seed_sso_token, write_sso_config
from faulty import Answer, FaultyUpstream
from harness.require import require
from harness.sandbox import EXECUTABLE, Sandbox

RUN_BOUND = 60.0
HOSTILE_CODE = "\x1b]0;owned\x07Forbidden\x1b[2J\u202eException"


def _hostile_portal(tmp_path: Path, sts_url: str, sso) -> tuple[Sandbox, FaultyUpstream]:  # type: ignore[no-untyped-def]
    front = FaultyUpstream(dialect="aws-json")
    body = json.dumps({"__type": HOSTILE_CODE, "message": "\x1b[31mdenied\x1b[0m"}).encode()
    front.answer = Answer(403, body, {"Content-Type": "application/json"})  # the code in the body alone
    box = Sandbox(
        tmp_path, sts_url, {"AWS_ENDPOINT_URL_SSO": front.url, "AWS_ENDPOINT_URL_SSO_OIDC": sso.url}
    )
    box.write_settings('cache = "file"\n')
    write_sso_config(box)
    seed_sso_token(box, sso)
    return box, front


def _assert_printable(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)


def test_a_hostile_error_code_reaches_neither_doctor_nor_a_debug_traceback(tmp_path, sts, sso):
    box, front = _hostile_portal(tmp_path, sts.url, sso)
    try:
        text = box.run("doctor", "--profile", "dev", timeout=RUN_BOUND)
        as_json = box.run("doctor", "--profile", "dev", "--json", timeout=RUN_BOUND)
        debug = box.run("--debug", "--profile", "dev", timeout=RUN_BOUND)
    finally:
        front.close()
    assert front.attempts() > 0
    assert "Forbidden" in text.stdout and "Traceback" in debug.stderr  # the code is shown, as ?s
    for output in (text.stdout, text.stderr, as_json.stdout, as_json.stderr, debug.stderr):
        _assert_printable(output)
    checks = {check["id"]: check for check in json.loads(as_json.stdout)["checks"]}
    _assert_printable(json.dumps(checks["credentials"], ensure_ascii=False))


# --- proxy credentials ---------------------------------------------------------------------------


def test_a_token_as_the_proxy_user_is_masked_in_doctor(sandbox):
    token = random_token(32)
    env = {"HTTPS_PROXY": f"http://{token}@proxy.corp:3128"}
    result = sandbox.run("doctor", "--json", env=env, timeout=RUN_BOUND)
    assert token not in result.stdout + result.stderr
    checks = {check["id"]: check for check in json.loads(result.stdout)["checks"]}
    assert "HTTPS_PROXY=http://****@proxy.corp:3128" in checks["environment"]["detail"]


@pytest.mark.parametrize("service", ["sts", "idp"])
def test_a_proxy_password_urllib3_cannot_parse_is_never_quoted(tmp_path, sts, service):
    """`/` in a password ends the URL's authority for a parser: the error quotes what came before."""
    first, second = random_token(10), random_token(10)
    proxy = f"http://alice:{first}/{second}@127.0.0.1:9"
    box = Sandbox(tmp_path, sts.url)
    box.write_settings(
        'cache = "file"\n[profiles.corp]\nsource = "oidc"\nissuer = "http://127.0.0.1:9"\n'
        'client_id = "cred-export-test"\nrole_arn = "arn:aws:iam::123456789012:role/r"\n'
    )
    profile = box.role_chain(depth=1) if service == "sts" else "corp"
    result = box.run("--profile", profile, env={"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy}, timeout=RUN_BOUND)
    debug = box.run("--debug", "--profile", profile, env={"HTTP_PROXY": proxy}, timeout=RUN_BOUND)
    assert result.code in (3, 4) and len(result.stderr.splitlines()) == 1, result.stderr
    for output in (result.stderr, debug.stderr):
        assert first not in output and second not in output, output


# --- core dumps ------------------------------------------------------------------------------------


def _core_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line.split()[4]  # the soft limit
    raise AssertionError("no core limit in /proc")


def _while_running(process: subprocess.Popen, front: FaultyUpstream) -> str:
    """Its soft core limit, once it waits on the service."""
    ends = time.monotonic() + RUN_BOUND
    while not front.arrivals and time.monotonic() < ends and process.poll() is None:
        time.sleep(0.02)
    assert front.arrivals, "the process never reached the service"
    try:
        return _core_limit(process.pid)
    finally:
        process.kill()
        process.communicate(timeout=RUN_BOUND)


def _cores_allowed() -> None:
    """preexec_fn: the soft core limit raised to the hard one, so that a 0 seen later is the program's."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        raise OSError("core dumps are off for every process here")
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def test_the_slow_path_turns_core_dumps_off(tmp_path):
    """Seen from outside, in /proc, while the export waits on a hung service."""
    import resource

    require(
        resource.getrlimit(resource.RLIMIT_CORE)[1] != 0, "the hard core limit is 0 here: nothing to turn off"
    )
    front = FaultyUpstream(dialect="sts")
    front.fault = "hang"
    box = Sandbox(tmp_path, front.url)
    profile = box.role_chain(depth=1)
    box.write_settings('cache = "file"\n')
    try:
        process = subprocess.Popen(
            [EXECUTABLE, "--profile", profile],
            env=box.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_cores_allowed,
        )  # fmt: skip
        limit = _while_running(process, front)
    finally:
        front.close()
    assert limit == "0"


_HIT_PROBE = (
    "import resource, sys\n"
    "from cred_export.entry import main\n"
    "sys.argv = ['cred-export', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    soft = resource.getrlimit(resource.RLIMIT_CORE)[0]\n"
    "    sys.stderr.write(f'CORE {soft} ' + ('ctypes' if 'ctypes' in sys.modules else '-') + '\\n')\n"
)


def test_the_cache_hit_path_turns_core_dumps_off_lightly(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    assert sandbox.run("--profile", profile).code == 0  # fills the cache and the memo
    completed = subprocess.run(
        [sys.executable, "-c", _HIT_PROBE, "--profile", profile],
        env=sandbox.env,
        cwd=sandbox.root,
        capture_output=True,
        text=True,
        timeout=RUN_BOUND,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    assert sts.calls["AssumeRole"] == 1, "the probe was not a cache hit"
    assert "CORE 0 -" in completed.stderr, completed.stderr
