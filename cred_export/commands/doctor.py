"""`cred-export doctor`: checks with one-line fixes, from config files to Bedrock.

Prints one line per check (verdict, id, detail and, unless ok, the fix) and a summary, or with
`--json` the document described in `cred_export/doctor/report.py`. Exits 0 when no check
fails (warnings allowed), 1 otherwise. Never prints a secret: key ids are masked.
"""

from __future__ import annotations

import sys

import click

from cred_export.commands.options import debug_option
from cred_export.errors import EXIT_OK, EXIT_UNEXPECTED


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="AWS profile (default: $AWS_PROFILE, else the hook's).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document instead of lines.")
@click.option(
    "--model", metavar="ID", help="Model to check (default: ANTHROPIC_MODEL as Claude Code sees it)."
)
@debug_option
def doctor(profile: str | None, as_json: bool, model: str | None) -> None:
    """Check the set-up end to end, from config files to Bedrock."""
    from cred_export.doctor.run import run

    report = run(profile, model)
    sys.stdout.write(report.as_json() if as_json else report.as_text())
    sys.stdout.flush()
    # The report is the whole message; a failing check is an outcome, not an error line.
    raise SystemExit(EXIT_OK if report.ok else EXIT_UNEXPECTED)
