#!/bin/bash
# bench/disk.sh - the figures of README "Disk images and input files".
#
#   bench/disk.sh io                 INT 13h's data path, mapping vs pread/pwrite
#                                    (bench/disk_io.c) on $TMPDIR and on /dev/shm
#   bench/disk.sh load OTHER_TREE    kernel loading (bench/load.c) here and in
#                                    another built nobios tree (e.g. main's),
#                                    interleaved; no KVM needed
#   bench/disk.sh timeline OTHER     --timeline's "image read" for Debian's
#                                    vmlinux and bzImage, this nobios vs OTHER
#                                    (a nobios binary); needs KVM (SVM test host)
#   bench/disk.sh syslinux OTHER     syslinux from the corpus to its last disk
#                                    read ("Loading /initrd.gz...ok"); needs KVM
#
# RUNS (default 11, 5 for the KVM cases) sets the repetitions; every case
# interleaves the two sides and prints medians.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
K=$CORPUS/linux
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

case ${1:-} in
io)
	make -s "$BUILD/bench/disk_io" || exit 1
	for d in "${TMPDIR:-/tmp}" /dev/shm; do
		echo "== $d ($(findmnt -n -o FSTYPE -T "$d"))"
		"$BUILD/bench/disk_io" "$d/nobios-disk-io.$$.img" "${RUNS:-11}"
	done
	;;
load)
	other=${2:?"usage: bench/disk.sh load OTHER_TREE (a built nobios tree)"}
	make -s "$BUILD/bench/load" || exit 1
	[ -f "$other/$BUILD/libnobios.a" ] || { echo "$other/$BUILD/libnobios.a: build that tree first" >&2; exit 1; }
	gcc -O2 -std=gnu11 -D_GNU_SOURCE -I"$other/src" -o "$BUILD/bench/load-other" bench/load.c \
		-Wl,--whole-archive "$other/$BUILD/libnobios.a" -Wl,--no-whole-archive -lpthread -lm || exit 1
	n=${RUNS:-6}
	for f in vmlinux-cloud-amd64.elf vmlinuz-cloud-amd64; do
		for i in $(seq "$n"); do
			"$BUILD/bench/load-other" "$K/$f" 5 | sed 's/^/other /'
			"$BUILD/bench/load" "$K/$f" 5 | sed 's/^/this /'
		done
	done > "$BUILD/bench/load.out"
	for f in vmlinux-cloud-amd64.elf vmlinuz-cloud-amd64; do for s in other this; do
		l=$(grep "^$s .*$f" "$BUILD/bench/load.out")
		echo "$f $s: $(printf '%s\n' "$l" | sed 's/.*median \([0-9.]*\) ms wall.*/\1/' | med) ms wall," \
			"$(printf '%s\n' "$l" | sed 's/.*wall, \([0-9.]*\) ms CPU.*/\1/' | med) ms CPU" \
			"(medians of $n invocations of 5 loads)"
	done; done
	;;
timeline)
	other=${2:?"usage: bench/disk.sh timeline OTHER_NOBIOS"}
	n=${RUNS:-5}
	one() { timeout -k 5 90 "$1" run "$2" --timeline --timeout 0.3 </dev/null 2>&1 >/dev/null |
		sed -n 's/^ *\([0-9]*\) us  image read.*/\1/p' | head -1; }
	for i in $(seq "$n"); do for f in vmlinux-cloud-amd64.elf vmlinuz-cloud-amd64; do
		echo "other $f $(one "$other" "$K/$f")"
		echo "this $f $(one "$BUILD/nobios" "$K/$f")"
	done; done > "$BUILD/bench/timeline.out"
	for f in vmlinux-cloud-amd64.elf vmlinuz-cloud-amd64; do for s in other this; do
		echo "$f $s: image read at $(grep "^$s $f " "$BUILD/bench/timeline.out" | cut -d' ' -f3 | med) us (median of $n)"
	done; done
	;;
syslinux)
	other=${2:?"usage: bench/disk.sh syslinux OTHER_NOBIOS"}
	n=${RUNS:-5}
	out=$(mktemp)
	until_read() { # BIN -> ms to the last disk read
		local t0 t1 p
		t0=$(date +%s%N)
		"$1" --disk "$CORPUS/syslinux-linux-hdd.img,snapshot" </dev/null >"$out" 2>/dev/null &
		p=$!
		while ! grep -qF "Loading /initrd.gz...ok" "$out" 2>/dev/null; do
			kill -0 $p 2>/dev/null || break; sleep 0.01
		done
		t1=$(date +%s%N)
		kill $p 2>/dev/null; wait $p 2>/dev/null
		echo $(( (t1 - t0) / 1000000 ))
	}
	for i in $(seq "$n"); do
		echo "other $(until_read "$other")"
		echo "this $(until_read "$BUILD/nobios")"
	done > "$BUILD/bench/syslinux.out"
	rm -f "$out"
	for s in other this; do
		echo "$s: $(grep "^$s " "$BUILD/bench/syslinux.out" | cut -d' ' -f2 | sort -n | tr '\n' ' ')ms; median $(grep "^$s " "$BUILD/bench/syslinux.out" | cut -d' ' -f2 | med) ms"
	done
	;;
*)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
