#!/usr/bin/env bash
# Builds the Debian package with dpkg-deb from the Linux one-dir bundle:
#   /opt/cred-export/                the bundle (its own Python and libraries)
#   /usr/bin/cred-export             a symlink to /opt/cred-export/cred-export
#   /etc/cred-export/config.toml     the commented machine-wide settings (a conffile)
#   /usr/share/doc/cred-export/copyright
# Depends only on libc6 (at least the newest GLIBC symbol version the bundle uses). The
# post-install script prints how to wire Claude Code.
#
#   BUNDLE_DIR      a bundle from packaging/linux/build-bundle.sh (default: build one now)
#   DIST_DIR        where the .deb goes (default: dist/)
#   WORK_DIR        staging area parent (default: build/; the tree is staged in WORK_DIR/deb)
#   DEB_REVISION    Debian revision appended to the version (default: 1)
#   DEB_MAINTAINER  the Maintainer field (default: cred-export <dev@cred-export.invalid>)
#   SOURCE_DATE_EPOCH  file times in the package (default: the last commit's time)
#
# Needs dpkg-deb and objdump (binutils). Prints `deb: PATH` on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/packaging/debian"
dist=${DIST_DIR:-$root/dist}
work=${WORK_DIR:-$root/build}/deb

die() { echo "build-deb: $*" >&2; exit 1; }

for tool in dpkg-deb dpkg objdump od; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install dpkg binutils coreutils)"
done

elf_files() {  # elf_files DIR: every ELF file under DIR, NUL-separated
  local file
  while IFS= read -r -d '' file; do
    if [ "$(head -c 4 "$file" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
      printf '%s\0' "$file"
    fi
  done < <(find "$1" -type f -print0)
}

glibc_floor() {  # glibc_floor DIR: the newest GLIBC_x.y symbol version any ELF file under DIR needs
  elf_files "$1" | xargs -0 -r objdump -T | { grep -o 'GLIBC_[0-9][0-9.]*' || true; } \
    | sed 's/^GLIBC_//' | sort -uV | tail -n 1
}

stage() {  # stage BUNDLE PKG: lay out the package tree in PKG
  local bundle=$1 pkg=$2
  install -d -m 0755 "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/etc/cred-export" \
    "$pkg/usr/share/doc/cred-export"
  cp -R "$bundle" "$pkg/opt/cred-export"  # -R copies symlinks as symlinks
  ln -s /opt/cred-export/cred-export "$pkg/usr/bin/cred-export"
  install -m 0644 "$root/packaging/config/config.toml" "$pkg/etc/cred-export/config.toml"
  install -m 0644 "$here/copyright" "$pkg/usr/share/doc/cred-export/copyright"
  install -m 0755 "$here/postinst" "$pkg/DEBIAN/postinst"
  printf '/etc/cred-export/config.toml\n' >"$pkg/DEBIAN/conffiles"
  # 0755 for directories and executables, 0644 for everything else (shared libraries included).
  find "$pkg" -type d -exec chmod 0755 {} +
  find "$pkg" -type f -exec chmod 0644 {} +
  chmod 0755 "$pkg/opt/cred-export/cred-export" "$pkg/DEBIAN/postinst"
}

write_md5sums() {  # write_md5sums PKG: DEBIAN/md5sums for `dpkg --verify` (conffiles excluded, as dpkg wants)
  (cd "$1" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
    | LC_ALL=C sort -z | xargs -0 -r md5sum) >"$1/DEBIAN/md5sums"
  chmod 0644 "$1/DEBIAN/md5sums"
}

clamp_times() {  # clamp_times PKG: every file's time is SOURCE_DATE_EPOCH (reproducible packages)
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

write_control() {  # write_control PKG VERSION ARCH DEPENDS
  local pkg=$1 size
  size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
  sed -e "s|@VERSION@|$2|" -e "s|@ARCH@|$3|" -e "s|@DEPENDS@|$4|" -e "s|@INSTALLED_SIZE@|$size|" \
    -e "s|@MAINTAINER@|${DEB_MAINTAINER:-cred-export <dev@cred-export.invalid>}|" \
    "$here/control.in" >"$pkg/DEBIAN/control"
  chmod 0644 "$pkg/DEBIAN/control"
}

bundle=${BUNDLE_DIR:-}
if [ -z "$bundle" ]; then
  bundle=$("$root/packaging/linux/build-bundle.sh" | sed -n 's/^bundle: //p')
fi
[ -x "$bundle/cred-export" ] || die "no bundle at '$bundle' (expected $bundle/cred-export)"

version=$("$bundle/cred-export" --version | sed -n 's/^cred-export, version //p')
[ -n "$version" ] || die "cannot read the version from $bundle/cred-export --version"
floor=$(glibc_floor "$bundle")
[ -n "$floor" ] || die "found no GLIBC symbol versions in $bundle"
arch=$(dpkg --print-architecture)
deb_version="$version-${DEB_REVISION:-1}"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
  export SOURCE_DATE_EPOCH
fi

rm -rf "$work"
mkdir -p "$work" "$dist"
stage "$bundle" "$work/cred-export"
write_control "$work/cred-export" "$deb_version" "$arch" "libc6 (>= $floor)"
write_md5sums "$work/cred-export"
clamp_times "$work/cred-export"
deb="$(cd "$dist" && pwd)/cred-export_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$work/cred-export" "$deb" >&2
rm -rf "$work"
echo "deb: $deb"
