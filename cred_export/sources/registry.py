"""The ordered list of credential sources: the first whose `match` claims a profile builds its root.

Order matters where a profile could be read two ways: an SSO profile that also holds keys is an
SSO profile; keys win over `login_session` (botocore agrees for keys in ~/.aws/credentials; for
keys in ~/.aws/config it tries `login_session` first), which wins over a `credential_process`;
keys beside a `credential_process` go to botocore. To add a source: a
module with a `Root` subclass and `match` (see `base.py`), and one line here.
"""

from __future__ import annotations

from cred_export.aws.config import AwsConfig
from cred_export.errors import ConfigError
from cred_export.sources import botocore_profile, console, oidc, saml, sso, static
from cred_export.sources.base import AWS_CONFIG, Candidate, Root

SOURCES = (
    sso,  # sso_session, or sso_start_url on the profile
    static,  # aws_access_key_id and aws_secret_access_key
    console,  # login_session (aws login)
    botocore_profile,  # credential_process, web_identity_token_file, credential_source
    oidc,  # [profiles.NAME] with source = "oidc"
    saml,  # [profiles.NAME] with source = "saml"
)


def root_for(candidate: Candidate, config: AwsConfig) -> Root:
    """The root of the first source that claims `candidate`; ConfigError when none does."""
    for source in SOURCES:
        root = source.match(candidate, config)
        if root is not None:
            return root
    raise ConfigError(_unclaimed(candidate))


def _unclaimed(candidate: Candidate) -> str:
    hints = [source.ROOT.hint for source in SOURCES if source.ROOT.defined_in == candidate.origin]
    if candidate.origin == AWS_CONFIG:
        return (
            f"profile {candidate.name!r} has no credentials: set {', '.join(hints)},"
            " or role_arn with source_profile"
        )
    origin = f"{candidate.settings.get('__origin__', 'config')}: [profiles.{candidate.name}]"
    return f"{origin}: source must be {' or '.join(hints)}"
