#!/usr/bin/env bash
# Builds the self-contained one-dir bundle for Linux with PyInstaller: dist/bundle/cred-export/,
# holding the `cred-export` executable and `_internal/` (its own Python, the keyring backends,
# jeepney for the Secret Service, and botocore with only the service models cred-export uses).
# It needs nothing on the target machine but glibc. Copy or package the whole directory; the
# executable may be reached through a symlink (e.g. /usr/bin/cred-export).
#
#   DIST_DIR   where the bundle goes (default: dist/; the bundle is DIST_DIR/bundle/cred-export)
#   WORK_DIR   PyInstaller's work files (default: build/pyinstaller)
#   PACKAGING_PYTHON, BASE_PYTHON: see packaging/tools-python.sh
#
# Needs binutils (objdump, strip), as PyInstaller does on Linux. Prints `bundle: PATH` on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist=${DIST_DIR:-$root/dist}/bundle
work=${WORK_DIR:-$root/build/pyinstaller}
python=$("$root/packaging/tools-python.sh")

for tool in objdump strip ldd; do
  command -v "$tool" >/dev/null || { echo "build-bundle: $tool not found (install binutils)" >&2; exit 1; }
done

"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" "$root/packaging/bundle/cred-export.spec" >&2

bundle=$(cd "$dist/cred-export" && pwd)
version=$("$bundle/cred-export" --version)  # the bundle starts on this machine
echo "build-bundle: built $version" >&2
echo "bundle: $bundle"
