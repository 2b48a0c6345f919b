"""IAM Identity Center role credentials (SSO portal GetRoleCredentials)."""

from __future__ import annotations

from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cred_export import log
from cred_export.chain import SsoRoot
from cred_export.errors import UpstreamError
from cred_export.sso.session import sign_in_required, usable_token
from cred_export.sts import CLIENT_CONFIG, MALFORMED_ANSWER, Keys, botocore_session


def role_credentials(root: SsoRoot) -> Keys:
    token = usable_token(root)
    portal = botocore_session(None).create_client(
        "sso", region_name=root.region, config=CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
    )
    log.debug(f"profile {root.profile}: SSO GetRoleCredentials {root.role_name} in {root.account_id}")
    try:
        response = portal.get_role_credentials(
            roleName=root.role_name, accountId=root.account_id, accessToken=token.access_token
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code == "UnauthorizedException":
            raise sign_in_required(root, "the SSO token was not accepted") from None
        hint = " (check sso_account_id and sso_role_name)" if code == "ForbiddenException" else ""
        raise UpstreamError(
            f"SSO GetRoleCredentials for profile {root.profile!r} failed: {code}{hint}"
        ) from None
    except BotoCoreError as exc:
        raise UpstreamError(
            f"SSO GetRoleCredentials for profile {root.profile!r} failed: {exc}; check the network or VPN"
        ) from None
    except MALFORMED_ANSWER:
        raise UpstreamError(
            f"SSO GetRoleCredentials for profile {root.profile!r} failed: a malformed answer"
        ) from None
    try:
        data = response["roleCredentials"]
        seconds = data["expiration"] / 1000
        return Keys(data["accessKeyId"], data["secretAccessKey"], data["sessionToken"], seconds)
    except (KeyError, TypeError):
        raise UpstreamError(
            f"SSO GetRoleCredentials for profile {root.profile!r} answered without complete credentials"
        ) from None
