#!/bin/bash
# scripts/ipxe-image.sh OUTDIR - iPXE's network-boot ROM in bzImage form
# (OUTDIR/ipxe.lkrn, boot protocol 2.07, no 64-bit entry, no compressed
# payload) for tests/boot/ipxe.sh, from Debian 12's ipxe package (apt-get
# download into OUTDIR/debs, unpacked there; nothing installed).
set -euo pipefail
OUT=${1:?usage: scripts/ipxe-image.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/debs.sh"
mkdir -p "$OUT"
debs_fetch "$OUT/debs" ipxe
if [ ! -f "$OUT/ipxe.lkrn" ] || [ "$OUT/debs" -nt "$OUT/ipxe.lkrn" ]; then
	rm -rf "$OUT/root"
	debs_extract "$OUT/debs" "$OUT/root"
	cp "$OUT/root/boot/ipxe.lkrn" "$OUT/ipxe.lkrn"
	cp "$OUT/root/VERSIONS" "$OUT/VERSIONS"
	rm -rf "$OUT/root"
fi
