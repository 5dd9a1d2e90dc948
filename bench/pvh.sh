#!/bin/sh
# bench/pvh.sh [RUNS] - the direct-boot benchmarks of issue 3, in one run:
# Debian's vmlinux through PVH to `Linux version` (nobios vs QEMU microvm
# -kernel vmlinux and QEMU pc), and tboot through Multiboot 1 to its e820
# line (nobios vs QEMU pc), interleaved, medians of RUNS (default 3), with
# KVM's exit/emulation counters.  The cases live in bench/run.py.
cd "$(dirname "$0")/.." || exit 1
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIPPED: no usable /dev/kvm"; exit 0; }
exec python3 bench/run.py --cases pvh,tboot --runs "${1:-3}" --timeout 240
