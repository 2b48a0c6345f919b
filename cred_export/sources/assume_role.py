"""One hop of an assume-role chain (STS AssumeRole)."""

from __future__ import annotations

import time

from cred_export import log
from cred_export.chain import RoleHop
from cred_export.sources.session_token import keys_from_sts
from cred_export.sts import Keys, call_with_duration_fallback, sts_client, upstream_errors


def assume(hop: RoleHop, keys: Keys, target_profile: str) -> Keys:
    client = sts_client(hop.profile, keys)
    params: dict[str, object] = {
        "RoleArn": hop.role_arn,
        "RoleSessionName": hop.role_session_name or f"cred-export-{int(time.time())}",
    }
    if hop.external_id:
        params["ExternalId"] = hop.external_id

    def call(seconds: int | None) -> dict:
        return client.assume_role(**params, **({"DurationSeconds": seconds} if seconds else {}))

    log.debug(f"profile {hop.profile}: STS AssumeRole {hop.role_arn}")
    with upstream_errors(f"STS AssumeRole {hop.role_arn}", target_profile):
        response = call_with_duration_fallback(call, hop.duration_seconds, hop.profile)
    return keys_from_sts(response.get("Credentials"), f"STS AssumeRole {hop.role_arn}", target_profile)
