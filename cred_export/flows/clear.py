"""`cred-export clear`: forget cached credentials and sign-in sessions of profiles."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from cred_export import files, paths
from cred_export.aws.config import load_aws_config
from cred_export.chain import resolve_chain
from cred_export.errors import ConfigError, CredExportError
from cred_export.flows import bedrock_token
from cred_export.renew.lock import holding_file
from cred_export.settings import load_settings
from cred_export.stores.choose import every_store


def clear(profile: str | None, *, everything: bool, session_files: bool, say: Callable[[str], None]) -> None:
    """Remove a profile's (or, with `everything`, every profile's) entries from every store.

    `session_files` also deletes the files its sources share with other tools (the AWS CLI's
    SSO token file, say), each under the lock its renewals and sign-ins hold (so that a renewal in
    flight cannot write it back), with any temporary file a killed write left next to it. `say`
    reports each step.
    """
    if bool(profile) == everything:
        raise ConfigError("name one --profile, or --all")
    settings = load_settings()
    config = load_aws_config()
    stores = every_store(settings)
    names = sorted({*config.profiles, *settings.profiles}) if everything else [profile]
    for name in names:
        try:
            chain = resolve_chain(config, name, profile_named=True, idp_profiles=settings.profiles)  # type: ignore[arg-type]
        except CredExportError:
            if not everything:
                raise
            continue
        for store in stores:
            for key in [*chain.store_keys(), bedrock_token.store_key(chain)]:
                store.delete(key)
        if session_files:
            for path in chain.root.shared_files():
                with holding_file(path, settings.lock_timeout_seconds, path):
                    _remove(path)
        say(f"cleared profile {name}")
    if everything:
        for folder in ("credentials", "memo"):
            shutil.rmtree(os.path.join(paths.cache_dir(), folder), ignore_errors=True)
        say(f"cleared {paths.cache_dir()}")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    files.remove_strays(path)
