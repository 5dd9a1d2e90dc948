#!/bin/sh
# scripts/setup.sh - install what nobios needs to build, test and benchmark
# on Debian 12 (run as root or with sudo available).  Idempotent.
# debhelper and dpkg-dev build the .deb (tests/boot/package.sh); bash-completion
# runs the completion test; man-db lets the install test find the man page;
# iproute2 (ip tuntap, ip neigh) and util-linux (unshare, setpriv) make the
# network namespace and the TAP of tests/boot/net.sh; kmod's depmod indexes
# the modules of tests/boot/exec_9p.sh's kernel.  libdevmapper1.02.1:
# grub-mkimage (scripts/grub-images.sh runs it unpacked from grub-common, not
# installed) links it.
set -eu
PKGS="build-essential make gcc nasm binutils python3 time gdb bc hyperfine
      libcmocka-dev liblz4-dev zlib1g-dev liblzma-dev libzstd-dev libbz2-dev libunicorn-dev
      libseccomp-dev cppcheck clang-tidy
      clang libclang-rt-14-dev qemu-system-x86 mtools dosfstools syslinux syslinux-common cpio gzip lz4 xz-utils zstd
      e2fsprogs fdisk coreutils faketime kmod iproute2 util-linux libdevmapper1.02.1
      debhelper dpkg-dev bash-completion man-db"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing" >&2
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi
