"""SAML assertion → AWS credentials (STS AssumeRoleWithSAML, an unsigned call)."""

from __future__ import annotations

import time

from botocore import UNSIGNED
from botocore.config import Config

from cred_export import log
from cred_export.chain import SamlRoot, digest
from cred_export.errors import sign_in_required
from cred_export.idp.saml import choose_role, roles_in
from cred_export.sources.session_token import keys_from_sts
from cred_export.stores.base import Store
from cred_export.sts import (
    CLIENT_CONFIG,
    Keys,
    botocore_session,
    call_with_duration_fallback,
    upstream_errors,
)

ASSERTION_LIFETIME = 240  # seconds a fresh assertion is used for (IdPs issue them for ~5 min)


def assertion_key(root: SamlRoot) -> str:
    return digest(
        {"type": "saml-assertion", "profile": root.profile, "command": root.settings.assertion_command}
    )


def keep_assertion(store: Store, root: SamlRoot, assertion: str) -> None:
    store.put_text(assertion_key(root), f"{int(time.time())}\n{assertion}")


def role_credentials(root: SamlRoot, store: Store) -> Keys:
    """Credentials from the assertion `login` obtained; export never runs the command itself."""
    stamp, _, assertion = (store.get_text(assertion_key(root)) or "").partition("\n")
    if not stamp.isdigit() or time.time() - int(stamp) > ASSERTION_LIFETIME or not assertion:
        raise sign_in_required(root.profile, "a SAML sign-in is needed")
    store.delete(assertion_key(root))  # an assertion is for one exchange
    profile = root.settings
    role, principal = choose_role(profile, roles_in(assertion, root.profile))
    config = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
    sts = botocore_session(None).create_client(
        "sts", region_name=profile.region or "us-east-1", config=config
    )

    def call(seconds: int | None) -> dict:
        extra = {"DurationSeconds": seconds} if seconds else {}
        return sts.assume_role_with_saml(
            RoleArn=role, PrincipalArn=principal, SAMLAssertion=assertion, **extra
        )

    log.debug(f"profile {root.profile}: STS AssumeRoleWithSAML {role}")
    with upstream_errors(f"STS AssumeRoleWithSAML {role}", root.profile):
        response = call_with_duration_fallback(call, profile.duration_seconds, root.profile)
    return keys_from_sts(response.get("Credentials"), f"STS AssumeRoleWithSAML {role}", root.profile)
