"""SAML: get an assertion from `assertion_command`, and read the roles it grants."""

from __future__ import annotations

import base64
import binascii

from cred_export.errors import ConfigError, UpstreamError
from cred_export.idp.profiles import SamlProfile
from cred_export.util.subprocesses import run_for_output

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
_SAML_NS = "{urn:oasis:names:tc:SAML:2.0:assertion}"


def run_assertion_command(profile: SamlProfile, deadline: float) -> str:
    """The base64 SAMLResponse the command prints (see cred_export.util.subprocesses for how it runs)."""
    assertion = run_for_output(profile.assertion_command, "assertion_command", profile.name, deadline).strip()
    roles_in(assertion, profile.name)  # fail now, clearly, if it is not an assertion
    return assertion


def roles_in(assertion: str, profile: str) -> list[tuple[str, str]]:
    """(role ARN, principal ARN) pairs of the assertion's Role attribute."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        document = ElementTree.fromstring(base64.b64decode(assertion, validate=True))
    except (binascii.Error, ValueError, ElementTree.ParseError, DefusedXmlException):
        raise UpstreamError(
            f"profile {profile!r}: the SAML response is not base64-encoded SAML XML"
        ) from None
    pairs = []
    for attribute in document.iter(f"{_SAML_NS}Attribute"):
        if attribute.get("Name") == ROLE_ATTRIBUTE:
            for value in attribute.iter(f"{_SAML_NS}AttributeValue"):
                pairs.append(_role_pair((value.text or "").strip()))
    if not pairs:
        raise UpstreamError(f"profile {profile!r}: the SAML assertion grants no AWS role")
    return pairs


def choose_role(profile: SamlProfile, pairs: list[tuple[str, str]]) -> tuple[str, str]:
    if profile.role_arn:
        for role, principal in pairs:
            if role == profile.role_arn and (not profile.principal_arn or principal == profile.principal_arn):
                return role, principal
        raise ConfigError(f"profile {profile.name!r}: the assertion does not grant {profile.role_arn}")
    if len(pairs) == 1:
        return pairs[0]
    roles = ", ".join(role for role, _ in pairs)
    raise ConfigError(
        f"profile {profile.name!r}: the assertion grants several roles; set role_arn to one of: {roles}"
    )


def _role_pair(value: str) -> tuple[str, str]:
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2:
        raise UpstreamError(f"unexpected Role attribute value in the SAML assertion: {value[:80]!r}")
    first, second = parts
    return (first, second) if ":role/" in first else (second, first)
