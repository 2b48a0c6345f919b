"""Options shared by several commands."""

from __future__ import annotations

import click

from cred_export import log


def _enable_debug(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        log.enable_debug()


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_enable_debug,
    help="Show resolution steps, cache decisions and timings on stderr (never secrets).",
)
