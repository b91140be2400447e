#!/usr/bin/env bash
# Makes the image's base from Debian's own packages, because no image registry is
# reachable from the machines that build it: a minimal Debian 12 (debootstrap) with
# the libraries the project's Python wheels and the standard library load, plus a
# Python 3.10 (rasa 3.6 supports <= 3.10; Debian 12 ships 3.11), copied from the
# interpreter scripts/python310.sh finds on the building machine (the same Debian 12,
# so its libraries match). Imported as $BASE_IMAGE; skipped when it already exists.
#
# Elsewhere, with a registry at hand, any Debian-based Python 3.10 image does the same:
#   make image BASE_IMAGE=docker.io/library/python:3.10-slim-bookworm
set -euo pipefail
base_image=${BASE_IMAGE:-localhost/oyat-base:bookworm-python3.10}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
engine=${CONTAINER_ENGINE:-podman}

if "$engine" image exists "$base_image" 2>/dev/null; then
  echo "==> base image $base_image is there"
  exit 0
fi

python=$(bash "$(dirname "$0")/../../scripts/python310.sh")
prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
work=$(mktemp -d /var/tmp/oyat-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

# The standard library's extension modules and the wheels' shared libraries.
libraries=ca-certificates,tini,libssl3,libsqlite3-0,libffi8,zlib1g,libbz2-1.0,liblzma5,libreadline8,libncursesw6,libgdbm6,libuuid1,libexpat1,libstdc++6,libgomp1,libpq5
echo "==> debootstrap Debian 12 (minbase) from $mirror"
debootstrap --variant=minbase --include="$libraries" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

echo "==> Python 3.10 from $prefix to /opt/python3.10"
mkdir -p "$rootfs/opt/python3.10"
cp -a "$prefix/." "$rootfs/opt/python3.10/"
rm -rf "$rootfs/opt/python3.10/lib/python3.10/test" "$rootfs/opt/python3.10/lib/python3.10/site-packages/"*
# The interpreter was linked with its build prefix as rpath: the loader finds libpython here.
echo /opt/python3.10/lib > "$rootfs/etc/ld.so.conf.d/python3.10.conf"
chroot "$rootfs" /sbin/ldconfig
ln -sf /opt/python3.10/bin/python3.10 "$rootfs/usr/local/bin/python3.10"
chroot "$rootfs" /usr/local/bin/python3.10 -c 'import ssl, sqlite3, ctypes, zlib, bz2, lzma, uuid; print("python3.10 ok")'
# Package lists stay out of the image; the build stage fetches them when it installs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "==> importing $base_image"
tar -C "$rootfs" -c . | "$engine" import --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
echo "==> base image $base_image made"
