#!/usr/bin/env bash
# Builds a signed, notarized macOS installer package (.pkg) from the one-dir bundle. Run on a
# Mac with Xcode's command-line tools (not runnable on Linux). Installs:
#   /usr/local/cred-export/                                    the bundle
#   /usr/local/bin/cred-export                                 a symlink to it (postinstall)
#   /Library/Application Support/cred-export/config.toml       machine-wide settings, created
#                                                              from config.toml.default only
#                                                              when absent (upgrades keep edits)
#
#   BUNDLE_DIR              a bundle from packaging/macos/build-bundle.sh (default: build one)
#   DIST_DIR                where the .pkg goes (default: dist/)
#   PKG_IDENTIFIER          default: com.example.cred-export (use your organisation's)
#   CODESIGN_IDENTITY       "Developer ID Application: ORG (TEAMID)"; unset: ad-hoc signature
#   INSTALLER_IDENTITY      "Developer ID Installer: ORG (TEAMID)"; unset: unsigned .pkg
#   NOTARY_PROFILE          a `xcrun notarytool store-credentials` profile; unset: no notarization
#
# Prints `pkg: PATH` on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/packaging/macos"
dist=${DIST_DIR:-$root/dist}
identifier=${PKG_IDENTIFIER:-com.example.cred-export}

[ "$(uname -s)" = Darwin ] || { echo "build-pkg: run this on macOS" >&2; exit 1; }

bundle=${BUNDLE_DIR:-}
if [ -z "$bundle" ]; then
  bundle=$("$here/build-bundle.sh" | sed -n 's/^bundle: //p')
fi
version=$("$bundle/cred-export" --version | sed -n 's/^cred-export, version //p')

sign_bundle() {  # every Mach-O file inside-out, the main executable last, hardened runtime on
  local args=(--force --options runtime --sign -)  # ad-hoc: enough to run, not to notarize
  [ -z "${CODESIGN_IDENTITY:-}" ] || args=(--force --options runtime --timestamp --sign "$CODESIGN_IDENTITY")
  find "$bundle/_internal" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -u+x \) -print0 \
    | xargs -0 codesign "${args[@]}"
  codesign "${args[@]}" --entitlements "$here/entitlements.plist" "$bundle/cred-export"
  codesign --verify --strict --verbose=2 "$bundle/cred-export" >&2
}

stage() {  # stage PAYLOAD SCRIPTS
  mkdir -p "$1/usr/local" "$1/Library/Application Support/cred-export" "$2"
  cp -R "$bundle" "$1/usr/local/cred-export"
  install -m 0644 "$root/packaging/config/config.toml" \
    "$1/Library/Application Support/cred-export/config.toml.default"
  install -m 0755 "$here/postinstall" "$2/postinstall"
}

notarize() {  # notarize PKG
  [ -n "${NOTARY_PROFILE:-}" ] || { echo "build-pkg: NOTARY_PROFILE unset: not notarized" >&2; return; }
  xcrun notarytool submit "$1" --keychain-profile "$NOTARY_PROFILE" --wait >&2
  xcrun stapler staple "$1" >&2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sign_bundle
stage "$work/payload" "$work/scripts"
mkdir -p "$dist"
pkg="$(cd "$dist" && pwd)/cred-export-$version.pkg"
sign_args=()
[ -z "${INSTALLER_IDENTITY:-}" ] || sign_args=(--sign "$INSTALLER_IDENTITY" --timestamp)
# ${a[@]+...}: macOS's bash 3.2 treats an empty array as unset under `set -u`.
pkgbuild --root "$work/payload" --scripts "$work/scripts" --identifier "$identifier" \
  --version "$version" --install-location / ${sign_args[@]+"${sign_args[@]}"} "$pkg" >&2
notarize "$pkg"
echo "pkg: $pkg"
