#!/usr/bin/env bash
# Builds the sdist and the wheel with `python -m build` (the wheel is built from the sdist, which
# proves the sdist is complete). Install the wheel with `pipx install dist/cred_export-*.whl`.
#
#   DIST_DIR   where the artifacts go (default: dist/)
#   PACKAGING_PYTHON, BASE_PYTHON: see packaging/tools-python.sh
#
# Prints one line per artifact on stdout: `sdist: PATH` and `wheel: PATH`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dist=${DIST_DIR:-$root/dist}
python=$("$root/packaging/tools-python.sh")

mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
fresh=$(mktemp -d "$dist/.build-wheel.XXXXXX")
trap 'rm -rf "$fresh"' EXIT

"$python" -m build --outdir "$fresh" "$root" >&2

move_one() {  # move_one KIND PATTERN: move the one built file matching PATTERN into $dist
  # shellcheck disable=SC2206  # $2 is a glob pattern, expanded on purpose
  local found=("$fresh"/$2)
  if [ "${#found[@]}" -ne 1 ] || [ ! -f "${found[0]}" ]; then
    echo "build-wheel: expected one $1 in $fresh, found: ${found[*]}" >&2
    exit 1
  fi
  mv -f "${found[0]}" "$dist/"
  echo "$1: $dist/$(basename "${found[0]}")"
}
move_one sdist '*.tar.gz'
move_one wheel '*.whl'
