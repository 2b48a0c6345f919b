"""What one check learns and a later one needs (the chain, the store, the credentials, …)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cred_export.aws.config import AwsConfig
from cred_export.chain import Chain
from cred_export.credentials import Credentials
from cred_export.settings import Settings
from cred_export.stores.base import Store


@dataclass
class Context:
    profile: str
    profile_named: bool
    profile_origin: str  # "--profile", "AWS_PROFILE", "awsCredentialExport (user settings …)", "default"
    model_option: str | None = None
    aws_config: AwsConfig | None = None
    settings: Settings | None = None
    chain: Chain | None = None
    store: Store | None = None
    cached: Credentials | None = None
    credentials: Credentials | None = None
    region: str | None = None  # the region Claude Code calls Bedrock in
    server_date: float | None = None  # the Date header of an STS response, Unix time
    local_time: float | None = None  # the local clock when that response arrived
    profile_ids: set[str] = field(default_factory=set)  # inference profile ids Bedrock listed
    profile_arns: set[str] = field(default_factory=set)
    listed: bool = False  # whether Bedrock's inference profiles could be listed
