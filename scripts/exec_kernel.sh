#!/bin/bash
# exec_kernel.sh [DIR] - a kernel with 9p for tests/boot/exec.sh's shared-
# files tests, with its modules: Debian's generic kernel (the one the SVM
# test host runs; the corpus's cloud kernel has no 9p), `apt-get download`ed
# (run it on the build machine: the test host has no network) into DIR
# (default $BUILD/exec-kernel):
#   DIR/vmlinuz                     the kernel
#   DIR/RELEASE                     its release, e.g. 6.1.0-57-amd64
#   DIR/modules/RELEASE/            modules.order, modules.builtin, the fs,
#                                   net, virtio and net-driver modules, and
#                                   depmod's index (so modprobe works)
set -euo pipefail
BUILD=${BUILD:-build}
DIR=${1:-$BUILD/exec-kernel}
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || { echo "exec_kernel: apt-cache knows no linux-image-amd64 (apt-get update?)" >&2; exit 1; }
kver=${pkg#linux-image-}
[ -f "$DIR/RELEASE" ] && [ "$(cat "$DIR/RELEASE")" = "$kver" ] && exit 0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) ||
	{ apt-get update -q >/dev/null 2>&1 || true; (cd "$tmp" && apt-get download "$pkg" >/dev/null); }
m=./lib/modules/$kver
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "./boot/vmlinuz-$kver" "$m/modules.order" \
	"$m/modules.builtin" "$m/modules.builtin.modinfo" "$m/kernel/fs" "$m/kernel/net" \
	"$m/kernel/drivers/virtio" "$m/kernel/drivers/net" "$m/kernel/lib"
rm -rf "$DIR"; mkdir -p "$DIR/modules"
mv "$tmp/boot/vmlinuz-$kver" "$DIR/vmlinuz"
mv "$tmp/lib/modules/$kver" "$DIR/modules/"
# modprobe inside the guest reads depmod's index; a tree without it still
# gives nobios what it packs (modules.order, depends=).
DEPMOD=$(command -v depmod || echo /sbin/depmod)
if [ -x "$DEPMOD" ]; then
	mkdir -p "$tmp/b/lib/modules"; ln -s "$(cd "$DIR/modules/$kver" && pwd)" "$tmp/b/lib/modules/$kver"
	"$DEPMOD" -b "$tmp/b" "$kver"
else
	echo "exec_kernel: no depmod (Debian's kmod): modprobe in the guest will not work" >&2
fi
echo "$kver" > "$DIR/RELEASE"
echo "exec_kernel: $kver in $DIR ($(find "$DIR/modules" -name '*.ko' | wc -l) modules)"
