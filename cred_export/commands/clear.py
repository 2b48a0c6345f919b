"""`cred-export clear`: forget cached credentials and sign-in sessions."""

from __future__ import annotations

import click

from cred_export.commands.options import debug_option


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="The profile to clear.")
@click.option("--all", "everything", is_flag=True, help="Every profile, and the whole file cache.")
@click.option(
    "--sso-tokens", is_flag=True, help="Also delete the AWS CLI's SSO token files of these profiles."
)
@debug_option
def clear(profile: str | None, everything: bool, sso_tokens: bool) -> None:
    """Remove cached credentials and tokens from the keyring and the file cache."""
    import os
    import shutil

    from cred_export import paths
    from cred_export.aws_config import load_aws_config
    from cred_export.chain import SsoRoot, resolve_chain
    from cred_export.errors import ConfigError, CredExportError
    from cred_export.profile_state import cache_keys
    from cred_export.settings import load_settings

    if bool(profile) == everything:
        raise ConfigError("name one --profile, or --all")
    settings = load_settings()
    config = load_aws_config()
    stores = _every_store(settings)
    names = sorted({*config.profiles, *settings.profiles}) if everything else [profile]
    for name in names:
        try:
            chain = resolve_chain(config, name, profile_named=True, idp_profiles=settings.profiles)  # type: ignore[arg-type]
        except CredExportError:
            if not everything:
                raise
            continue
        for store in stores:
            for key in cache_keys(chain):
                store.delete(key)
        if sso_tokens and isinstance(chain.root, SsoRoot):
            from cred_export.sso import tokens

            try:
                os.unlink(tokens.path_for(chain.root))
            except FileNotFoundError:
                pass
        click.echo(f"cleared profile {name}")
    if everything:
        for folder in ("credentials", "memo"):
            shutil.rmtree(os.path.join(paths.cache_dir(), folder), ignore_errors=True)
        click.echo(f"cleared {paths.cache_dir()}")


def _every_store(settings):  # type: ignore[no-untyped-def]
    """Whichever stores may hold entries: the file cache always, the keyring when it answers."""
    from cred_export.errors import StoreUnavailable
    from cred_export.stores.file_store import FileStore
    from cred_export.stores.keyring_store import KeyringStore

    stores = [FileStore()]
    try:
        stores.append(KeyringStore(settings.keyring_timeout_seconds, settings.keyring_chunk_size))
    except StoreUnavailable:
        pass
    return stores
