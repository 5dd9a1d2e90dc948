#!/bin/bash
# virtio_modules.sh [DIR] - the kernel modules tests/boot/virtio.sh and
# tests/boot/net.sh load in their initramfs: Debian's cloud kernel (the
# corpus's vmlinuz-cloud-amd64) builds virtio, virtio_ring, virtio_mmio,
# virtio_blk, virtio_console, virtio-rng and virtio_net (with what it
# depends on: net_failover, failover) as modules (ext4 and rng-core are built
# in).  The corpus keeps only the kernel image, so this fetches the same
# package version with `apt-get download` (run it on the build machine: the
# SVM test host has no network) and unpacks those files into DIR (default
# $BUILD/virtio-ko).
set -euo pipefail
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
DIR=${1:-$BUILD/virtio-ko}
MODS="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_mmio.ko
      drivers/block/virtio_blk.ko drivers/char/virtio_console.ko drivers/char/hw_random/virtio-rng.ko
      net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko"
pkg=$(awk '$1 ~ /^linux-image-.*-cloud-amd64$/ { print $1 "=" $2; exit }' "$CORPUS/VERSIONS")
[ -n "$pkg" ] || { echo "virtio_modules: no cloud kernel in $CORPUS/VERSIONS" >&2; exit 1; }
kver=${pkg%%=*}; kver=${kver#linux-image-}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$pkg" >/dev/null)
dpkg-deb -x "$tmp"/*.deb "$tmp/x"
mkdir -p "$DIR"
for m in $MODS; do
	f=$tmp/x/lib/modules/$kver/kernel/$m
	[ -f "$f" ] || f=$(ls "$f".* 2>/dev/null | head -1)
	case $f in
	*.xz) xz -dc "$f" > "$DIR/$(basename "$m")" ;;
	*.zst) zstd -qdc "$f" > "$DIR/$(basename "$m")" ;;
	*) cp "$f" "$DIR/" ;;
	esac
done
echo "$kver" > "$DIR/KERNEL"
echo "virtio_modules: $kver: $(ls "$DIR" | grep -c '\.ko$') modules in $DIR"
