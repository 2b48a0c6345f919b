"""botocore clients for doctor's AWS calls: the profile's endpoint settings, bounded like export's."""

from __future__ import annotations

from typing import Any

from cred_export.aws.clients import CLIENT_CONFIG, profile_session
from cred_export.credentials import Credentials


def signed_client(service: str, profile: str, creds: Credentials, region: str | None = None) -> Any:
    """A client signed with `creds`; honours AWS_ENDPOINT_URL_<SERVICE> and `[services]` sections."""
    return profile_session(profile).create_client(
        service,
        region_name=region,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        config=CLIENT_CONFIG,
    )
