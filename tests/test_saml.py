"""SAML end to end: a signed assertion from assertion_command, exchanged with AssumeRoleWithSAML."""

from __future__ import annotations

import base64
import sys

import pytest
from harness.saml_idp import PRINCIPAL, SamlIdp

ROLE = "arn:aws:iam::123456789012:role/bedrock"
OTHER = "arn:aws:iam::123456789012:role/admin"


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


@pytest.fixture
def saml_box(sandbox, sts, idp, tmp_path):  # type: ignore[no-untyped-def]
    sts.saml_certificate = idp.certificate_pem
    sandbox.assertion_file = tmp_path / "assertion.b64"
    return sandbox


def configure(box, extra: str = "", command: str | None = None) -> None:  # type: ignore[no-untyped-def]
    command = command or f"cat {box.assertion_file}"
    box.write_settings(
        f'cache = "file"\n[profiles.corp]\nsource = "saml"\nassertion_command = \'{command}\'\n{extra}'
    )


def test_export_never_runs_the_assertion_command(saml_box, idp, sts, tmp_path):
    marker = tmp_path / "ran"
    configure(saml_box, command=f"touch {marker}")
    result = saml_box.run("--profile", "corp")
    assert result.code == 3 and "cred-export login --profile corp" in result.stderr
    assert not marker.exists() and sts.calls == {}


def test_login_with_a_single_role_then_export_hits(saml_box, idp, sts):
    saml_box.assertion_file.write_text(idp.response([ROLE]))
    configure(saml_box, "duration_seconds = 7200\n")
    sts.max_session_duration = 3600
    login = saml_box.run("login", "--profile", "corp")
    assert login.code == 0, login.stderr
    calls = [r for r in sts.requests if r["Action"] == "AssumeRoleWithSAML"]
    assert [c["DurationSeconds"] for c in calls] == ["7200", "3600"]  # fallback applies to SAML too
    assert calls[-1]["RoleArn"] == ROLE and calls[-1]["PrincipalArn"] == PRINCIPAL
    assert calls[-1]["_signer"] == ""  # unsigned: no other credentials involved
    export = saml_box.run("--profile", "corp")
    assert export.code == 0 and export.credentials["AccessKeyId"].startswith("ASIA")
    assert len(sts.requests) == 2  # the export was a cache hit


def test_multi_role_assertion_uses_the_configured_role(saml_box, idp, sts):
    saml_box.assertion_file.write_text(idp.response([OTHER, ROLE]))
    configure(saml_box, f'role_arn = "{ROLE}"\n')
    assert saml_box.run("login", "--profile", "corp").code == 0
    (call,) = sts.requests
    assert call["RoleArn"] == ROLE


def test_multi_role_assertion_without_a_choice_lists_the_roles(saml_box, idp, sts):
    saml_box.assertion_file.write_text(idp.response([OTHER, ROLE]))
    configure(saml_box)
    result = saml_box.run("login", "--profile", "corp")
    assert result.code == 2 and OTHER in result.stderr and ROLE in result.stderr
    assert sts.calls == {}


def test_configured_role_not_in_the_assertion(saml_box, idp, sts):
    saml_box.assertion_file.write_text(idp.response([OTHER]))
    configure(saml_box, f'role_arn = "{ROLE}"\n')
    result = saml_box.run("login", "--profile", "corp")
    assert result.code == 2 and "does not grant" in result.stderr


def test_a_tampered_assertion_is_refused_by_sts_with_exit_4(saml_box, idp, sts):
    genuine = base64.b64decode(idp.response([ROLE])).decode()
    tampered = genuine.replace("alice@example.com", "mallory@example.com")
    saml_box.assertion_file.write_text(base64.b64encode(tampered.encode()).decode())
    configure(saml_box)
    result = saml_box.run("login", "--profile", "corp")
    assert result.code == 4 and "InvalidIdentityToken" in result.stderr


@pytest.mark.parametrize(
    "output, needle",
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"<x/>").decode(), "grants no AWS role"),
        (base64.b64encode(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>").decode(), "not base64-encoded SAML"),
    ],
)
def test_bad_assertions(saml_box, sts, output, needle):
    saml_box.assertion_file.write_text(output)
    configure(saml_box)
    result = saml_box.run("login", "--profile", "corp")
    assert result.code == 4 and needle in result.stderr and "Traceback" not in result.stderr


def test_failing_or_missing_assertion_command(saml_box, sts, tmp_path):
    failing = tmp_path / "fail.py"
    failing.write_text("import sys\nsys.exit(7)\n")
    configure(saml_box, command=f"{sys.executable} {failing}")
    assert saml_box.run("login", "--profile", "corp").code == 4
    configure(saml_box, command="/nonexistent/saml-tool")
    result = saml_box.run("login", "--profile", "corp")
    assert result.code == 2 and "not found" in result.stderr


def test_saml_profile_as_source_of_a_role_chain(saml_box, idp, sts):
    saml_box.assertion_file.write_text(idp.response([ROLE]))
    configure(saml_box)
    saml_box.write_aws_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = corp\n"
    )
    result = saml_box.run("login", "--profile", "admin")
    assert result.code == 0, result.stderr
    assert [r["Action"] for r in sts.requests] == ["AssumeRoleWithSAML", "AssumeRole"]
    assert sts.requests[1]["_signer"].startswith("ASIA")
