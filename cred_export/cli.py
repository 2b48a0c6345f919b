"""The command line: `export` (the default command) and, as they arrive, the others.

Every failure becomes one line on stderr and a documented exit code; a traceback is shown
only with `--debug`.
"""

from __future__ import annotations

import click

from cred_export import __version__, log
from cred_export.commands.bedrock_token import bedrock_token
from cred_export.commands.clear import clear
from cred_export.commands.client_secret import client_secret
from cred_export.commands.doctor import doctor
from cred_export.commands.export import export
from cred_export.commands.iam_policy import iam_policy
from cred_export.commands.login import login
from cred_export.commands.options import debug_option
from cred_export.commands.setup import setup
from cred_export.commands.status import status
from cred_export.errors import EXIT_CONFIG, EXIT_UNEXPECTED, CredExportError
from cred_export.fast.invocation import HitNotes
from cred_export.files import WriteFailed
from cred_export.stores import StoreUnavailable
from cred_export.util import tracebacks
from cred_export.util.text import describe_exception

# The export's own options, which may come before the command name (`cred-export -p P status`).
_EXPORT_VALUE_OPTIONS = ("--profile", "-p", "--format", "-f")


class DefaultExportGroup(click.Group):
    """A group whose default command is `export`: `cred-export --profile P` just works."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        leading = 0
        while leading < len(args) and args[leading] == "--debug":
            leading += 1
        rest = args[leading:]
        if rest and not rest[0].startswith("-") and rest[0] not in self.commands:
            raise click.UsageError(self._no_such_command(rest[0]), ctx)
        rest = self._command_first(ctx, rest)
        if not rest or (rest[0] not in self.commands and rest[0] not in ("--help", "-h", "--version")):
            rest = ["export", *rest]
        return super().parse_args(ctx, [*args[:leading], *rest])

    def _no_such_command(self, word: str) -> str:
        import difflib

        close = difflib.get_close_matches(word, list(self.commands), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"No such command {word!r}.{hint}"

    def _command_first(self, ctx: click.Context, rest: list[str]) -> list[str]:
        """`--profile P status` read as `status --profile P`: the export's options before a command.

        The export takes no arguments, so a word after its options can only be a command."""
        index = 0
        while index < len(rest):
            word = rest[index]
            if word in _EXPORT_VALUE_OPTIONS:
                index += 2
            elif word == "--debug" or word.startswith(("--profile=", "--format=")):
                index += 1
            elif index and word in self.commands:
                return [word, *rest[:index], *rest[index + 1 :]]
            elif index and not word.startswith("-"):
                raise click.UsageError(self._no_such_command(word), ctx)
            else:
                break
        return rest

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's options, the default command's own (the hook's), then the commands."""
        click.Command.format_options(self, ctx, formatter)
        rows = [
            record
            for param in export.params
            if param.name in ("profile", "fmt") and (record := param.get_help_record(ctx)) is not None
        ]
        with formatter.section("Options of export (the default command)"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


@click.group(cls=DefaultExportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cred-export")
@debug_option
def cli() -> None:
    """AWS credentials for Claude Code on Amazon Bedrock.

    Without a command, runs `export`.
    """


for command in (export, login, bedrock_token, client_secret, setup, status, doctor, clear, iam_policy):
    cli.add_command(command)


def run(argv: list[str], notes: HitNotes | None = None) -> int:
    """Run the CLI on argv; returns the process exit code. `notes`: what the hit path learned."""
    try:
        code = cli.main(args=argv, prog_name="cred-export", standalone_mode=False, obj=notes or HitNotes())
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        log.error(f"{exc.format_message()} (see cred-export --help)")
        return EXIT_CONFIG if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Abort:
        return 130
    except CredExportError as exc:
        _traceback_if_debugging()
        log.error(str(exc))
        return exc.exit_code
    except StoreUnavailable as exc:  # a store that failed after it was chosen (a keyring gone away)
        _traceback_if_debugging()
        log.error(f'{exc}; try again, or set cache = "file" to keep off the OS keyring')
        return EXIT_UNEXPECTED
    except BrokenPipeError:
        return 0
    except WriteFailed as exc:
        _traceback_if_debugging()
        log.error(f"cannot write {exc.filename}: {exc.strerror}")
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        _traceback_if_debugging()
        log.error(f"unexpected error: {describe_exception(exc)} (run with --debug for details)")
        return EXIT_UNEXPECTED
    return code if isinstance(code, int) else 0  # a command's ctx.exit(n)


def _traceback_if_debugging() -> None:
    tracebacks.show_if_debugging()  # printable, proxy credentials masked
