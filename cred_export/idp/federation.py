"""OIDC id_token → AWS: STS AssumeRoleWithWebIdentity or a Cognito identity pool.

Both calls are unsigned: they never touch another profile's credentials, so they cannot
recurse into the profile chain.
"""

from __future__ import annotations

import re
from typing import Any

from cred_export import log
from cred_export.aws import sts
from cred_export.aws.clients import aws_errors, unsigned_client
from cred_export.credentials import Keys
from cred_export.idp.oidc_session import IdToken
from cred_export.idp.profiles import OidcProfile


def session_name(claims: dict[str, Any]) -> str:
    """RoleSessionName from the email (else subject), within STS's rules: [\\w+=,.@-]{2,64}."""
    raw = str(claims.get("email") or claims.get("sub") or "cred-export")
    cleaned = re.sub(r"[^\w+=,.@-]", "-", raw, flags=re.ASCII)[:64]
    return cleaned if len(cleaned) >= 2 else f"{cleaned}--"[:2]


def assume_role(profile: OidcProfile, id_token: IdToken) -> Keys:
    return sts.assume_role_with_web_identity(
        profile.name,
        role_arn=profile.role_arn,
        session_name=session_name(id_token.claims),
        token=id_token.token,
        region=profile.region or "us-east-1",
        duration=profile.duration_seconds,
    )


def cognito_credentials(profile: OidcProfile, id_token: IdToken) -> Keys:
    client = unsigned_client("cognito-identity", profile.region or "us-east-1")
    logins = {profile.cognito_provider: id_token.token}
    log.debug(
        f"profile {profile.name}: Cognito GetId + GetCredentialsForIdentity ({profile.identity_pool_id})"
    )
    with aws_errors("Cognito GetCredentialsForIdentity", profile.name):
        identity = client.get_id(IdentityPoolId=profile.identity_pool_id, Logins=logins)["IdentityId"]
        data = client.get_credentials_for_identity(IdentityId=identity, Logins=logins)["Credentials"]
        return Keys(
            data["AccessKeyId"], data["SecretKey"], data["SessionToken"], data["Expiration"].timestamp()
        )
