"""What reaches the terminal from elsewhere: against the installed program.

- A service's error code with escape sequences (an OSC title, a screen clear, a bidi override)
  reaches neither `doctor` (text or JSON) nor a `--debug` traceback raw.
- A proxy's credentials are masked in every form: a token as the user part alone
  (`http://TOKEN@proxy`), and a password with an unencoded `/`, which urllib3's parse error
  quotes in part.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faultkit import random_token, seed_sso_token, write_sso_config
from faulty import Answer, FaultyUpstream
from harness.sandbox import Sandbox

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
