#!/usr/bin/env bash
# Prints the path of a Python interpreter that can build cred-export's packages: one with
# PyInstaller, `build` and cred-export's runtime dependencies (see packaging/check_tools.py).
#
#   PACKAGING_PYTHON=/path/to/python   use that interpreter; it must have them (nothing is installed)
#   otherwise                          build/packaging-venv, created from BASE_PYTHON (default
#                                      python3) and brought up to date with pip when needed
#
# Only the interpreter's path goes to stdout; pip's output goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

missing() {  # missing PYTHON: what PYTHON lacks, empty if nothing
  [ -x "$1" ] || { echo "no interpreter at $1"; return; }
  "$1" "$root/packaging/check_tools.py" "$root/pyproject.toml" 2>&1 || true
}

if [ -n "${PACKAGING_PYTHON:-}" ]; then
  PACKAGING_PYTHON=$(command -v "$PACKAGING_PYTHON" || echo "$PACKAGING_PYTHON")
  problems=$(missing "$PACKAGING_PYTHON")
  if [ -n "$problems" ]; then
    echo "tools-python: $PACKAGING_PYTHON cannot build the packages:" >&2
    while IFS= read -r line; do echo "  $line"; done <<<"$problems" >&2
    echo "tools-python: pip install pyinstaller build $root (into it), or unset PACKAGING_PYTHON" >&2
    exit 1
  fi
  echo "$PACKAGING_PYTHON"
  exit 0
fi

venv="$root/build/packaging-venv"
if [ -n "$(missing "$venv/bin/python")" ]; then
  echo "tools-python: preparing $venv (PyInstaller, build and cred-export's dependencies)" >&2
  [ -x "$venv/bin/python" ] || "${BASE_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "pyinstaller>=6.3" "build>=1.0" "$root" >&2
  problems=$(missing "$venv/bin/python")
  [ -z "$problems" ] || { echo "tools-python: $venv still lacks: $problems" >&2; exit 1; }
fi
echo "$venv/bin/python"
