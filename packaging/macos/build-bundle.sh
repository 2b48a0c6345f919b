#!/usr/bin/env bash
# Builds the one-dir bundle on macOS with PyInstaller: dist/bundle/cred-export/.
# Run on a Mac (not runnable on Linux). The build interpreter decides the architecture:
# a universal2 python.org Python with TARGET_ARCH=universal2 gives one bundle for Intel and
# Apple silicon, provided every compiled dependency (cryptography, cffi) is universal2 too;
# otherwise build once per architecture on matching machines.
#
#   DIST_DIR, WORK_DIR, PACKAGING_PYTHON, BASE_PYTHON: as in packaging/linux/build-bundle.sh
#   TARGET_ARCH          x86_64, arm64 or universal2 (default: the interpreter's)
#   CODESIGN_IDENTITY    "Developer ID Application: ORG (TEAMID)": PyInstaller signs every
#                        binary with it; packaging/macos/build-pkg.sh signs again for notarization
#
# Prints `bundle: PATH` on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist=${DIST_DIR:-$root/dist}/bundle
work=${WORK_DIR:-$root/build/pyinstaller}

[ "$(uname -s)" = Darwin ] || { echo "build-bundle: run this on macOS" >&2; exit 1; }
python=$("$root/packaging/tools-python.sh")
export ENTITLEMENTS_FILE="$root/packaging/macos/entitlements.plist"

"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" "$root/packaging/bundle/cred-export.spec" >&2

bundle=$(cd "$dist/cred-export" && pwd)
"$bundle/cred-export" --version >&2
echo "bundle: $bundle"
