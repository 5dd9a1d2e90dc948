#!/bin/bash
# virtio_probe.sh - the virtio probe guest (tests/guests/virtio) drives
# virtio-blk through its MMIO registers with good requests and malformed
# descriptor chains (loops, out-of-RAM buffers, wrong direction, absurd
# lengths, bad indirect tables, a corrupt ring): every check passes inside
# the guest, nobios ends through the guest's debug-exit write (status 1,
# i.e. it kept running), and the read-write image is byte-identical after.
. "$(dirname "$0")/lib.sh"
PROBE=$GUESTS/virtio_probe.elf
ALL="virtio-probe virtio-probe-image-unchanged virtio-probe-verbose"
need_kvm $ALL || exit 0
if [ ! -f "$PROBE" ]; then
	for n in $ALL; do t_fail "$n" "$PROBE not built (make guests)"; done
	exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
IMG=$WORK/vprobe.img
# 64 sectors, sector n filled with byte n; sector 0 starts with a marker
python3 - "$IMG" <<'PY'
import sys
d = bytearray()
for n in range(64):
    d += bytes([n]) * 512
d[0:18] = b"NOBIOS-VIRTIO-DISK"
open(sys.argv[1], "wb").write(d)
PY
before=$(sha256sum < "$IMG")
run_nobios 120 run "$PROBE" -m 64M --disk "$IMG,rw" -v
after=$(sha256sum < "$IMG")
check virtio-probe eval '[ "$RC" = 1 ] && has PROBE-PASS && has "indirect done"'
check virtio-probe-image-unchanged eval '[ -n "$before" ] && [ "$before" = "$after" ]'
# -v names the window and the interrupt, and every refused chain's reason
check virtio-probe-verbose eval 'has "virtio-blk vda at [0xd0000000, 0xd0001000), GSI 16" &&
	has "refused: chain longer than the queue (loop)" && has "refused: buffer outside guest RAM" &&
	has "device needs reset: available ring corrupt"'
