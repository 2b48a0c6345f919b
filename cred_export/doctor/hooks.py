"""Claude Code's hook commands: which one wins, whether it runs cred-export, for which profile."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from cred_export.claude import code_settings, code_wiring

_EXECUTABLE_NAMES = ("cred-export", "cred-export.exe")
_SECRET_ASSIGNMENT = re.compile(r"(?i)\b([A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|KEY)[A-Z0-9_]*=)(\S+)")


@dataclass(frozen=True)
class Hook:
    name: str  # "awsCredentialExport" or "awsAuthRefresh"
    command: str
    layer: code_settings.Layer
    overridden: tuple[str, ...]  # lower layers that set it too

    @property
    def where(self) -> str:
        """`user`, or `managed, overriding user` when lower layers set it too."""
        overriding = f", overriding {', '.join(self.overridden)}" if self.overridden else ""
        return self.layer.name + overriding

    def shown(self) -> str:
        """The command for display, with values of secret-looking assignments masked."""
        return _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + "****", self.command)

    def words(self) -> list[str]:
        try:
            return shlex.split(self.command, posix=os.name != "nt")
        except ValueError:
            return self.command.split()

    def executable(self) -> str | None:
        """The cred-export executable the command runs, or None if it runs something else."""
        invocation = self.invocation()
        return invocation[0] if invocation else None

    def invocation(self) -> list[str] | None:
        """The words that start cred-export (`…/cred-export`, or `…/python -m cred_export`)."""
        words = self.words()
        for index, word in enumerate(words):
            if os.path.basename(word).lower() in _EXECUTABLE_NAMES:
                return [word]
            if word == "-m" and words[index + 1 : index + 2] == ["cred_export"]:
                return words[max(index - 1, 0) : index + 2]
        return None

    def program(self) -> str | None:
        """The first word: what the shell starts."""
        words = self.words()
        return words[0] if words else None

    def profile(self) -> str | None:
        """The `--profile`/`-p` the command passes, if any."""
        return code_wiring.hook_profile(self.words())


def effective(name: str) -> Hook | None:
    """The hook command Claude Code runs after precedence, or None when no layer sets it."""
    found = code_settings.effective(name)
    if found is None or not isinstance(found[0], str):
        return None
    command, layer = found
    return Hook(name, command, layer, _also_set_below(name, layer))


def _also_set_below(name: str, winner: code_settings.Layer) -> tuple[str, ...]:
    names: list[str] = []
    below = False
    for layer in code_settings.layers():
        if below and name in _load_quietly(layer):
            names.append(layer.name)
        below = below or layer.name == winner.name
    return tuple(names)


def _load_quietly(layer: code_settings.Layer) -> dict[str, object]:
    try:
        return layer.load() or {}
    except Exception:
        return {}
