"""Exit 0 when this interpreter can build cred-export's packages, else name what is missing.

Checks PyInstaller, `build`, and every runtime dependency in pyproject.toml (with its version
range and platform marker), so a bundle is never built from stale or missing dependencies.
Usage: python packaging/check_tools.py [PYPROJECT]
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

TOOLS = ("pyinstaller", "build")


def main(argv: list[str]) -> int:
    pyproject = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        from packaging.requirements import Requirement  # `build` depends on `packaging`
    except ModuleNotFoundError:
        print("missing: build (and its dependency packaging)")
        return 1
    wanted = [Requirement(spec) for spec in (*TOOLS, *runtime_dependencies(pyproject))]
    problems = [problem for requirement in wanted if (problem := check(requirement))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def runtime_dependencies(pyproject: Path) -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with pyproject.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def check(requirement) -> str | None:  # type: ignore[no-untyped-def]
    """A line describing why `requirement` is not met here, or None."""
    if requirement.marker is not None and not requirement.marker.evaluate():
        return None
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return f"missing: {requirement}"
    if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
        return f"wrong version: {requirement.name} {version} (wanted {requirement})"
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
