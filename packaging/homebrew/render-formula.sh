#!/usr/bin/env bash
# Renders the Homebrew formula from the template for a published sdist.
#
#   packaging/homebrew/render-formula.sh SDIST_FILE SDIST_URL [HOMEPAGE]
#
# SDIST_FILE is the .tar.gz from packaging/build-wheel.sh, SDIST_URL where the tap's users
# download that same file (an internal artifact server, say). Writes dist/cred-export.rb
# (DIST_DIR overrides dist/) and prints `formula: PATH`. Then, in the tap:
# `brew update-python-resources Formula/cred-export.rb`, `brew audit --strict cred-export`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ "$#" -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
sdist=$1 url=$2 homepage=${3:-$2}
[ -f "$sdist" ] || { echo "render-formula: no file $sdist" >&2; exit 1; }

if command -v sha256sum >/dev/null; then
  checksum=$(sha256sum "$sdist" | cut -d' ' -f1)
else
  checksum=$(shasum -a 256 "$sdist" | cut -d' ' -f1)
fi
dist=${DIST_DIR:-$root/dist}
mkdir -p "$dist"
formula="$(cd "$dist" && pwd)/cred-export.rb"
sed -e "s|@SDIST_URL@|$url|" -e "s|@SDIST_SHA256@|$checksum|" -e "s|@HOMEPAGE@|$homepage|" \
  "$root/packaging/homebrew/cred-export.rb.in" >"$formula"
echo "formula: $formula"
