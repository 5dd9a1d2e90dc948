#!/bin/bash
# disk.sh - disk images and input files that fail cleanly (issues 14, 15):
# the guest hears an INT 13h error where the host failed (a full file system,
# an image truncated under it), nobios reports it once and ends with status 10
# when a write or the flush at exit failed; locks between two VMs; a 64 GiB
# sparse ,snapshot image; ,rw on the tree itself (9p in the SVM test host);
# kernel and initrd files truncated while nobios reads them.
. "$(dirname "$0")/lib.sh"

W=$GUESTS/bios-diskio.img
R=$GUESTS/bios-diskio-read.img
HD=$GUESTS/bios-probe-hd.img
TMP=$(mktemp -d)
MNT=
BG=
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# run_split SECS ARGS...: console (stdout) in OUT, stderr in ERR.
run_split() {
	local secs=$1; shift
	OUT=$(timeout -k 5 "$secs" "$NOBIOS" "$@" </dev/null 2>"$TMP/err"); RC=$?
	ERR=$(cat "$TMP/err")
}
err_has() { printf '%s' "$ERR" | grep -qF -- "$1"; }
err_count() { printf '%s\n' "$ERR" | grep -cF -- "$1"; }
# start_bg NAME ARGS...: nobios in the background, console in $TMP/NAME.out,
# stderr in $TMP/NAME.err, its pid in BG.
start_bg() {
	local name=$1; shift
	"$NOBIOS" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	BG=$!
}
# wait_for FILE PATTERN SECS: 0 once PATTERN is in FILE.
wait_for() {
	local t=0
	while [ $t -lt $(($3 * 10)) ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; t=$((t + 1))
	done
	return 1
}
# disk_with PROBE FILE SIZE: FILE of SIZE bytes (sparse) starting with PROBE.
disk_with() {
	truncate -s "$3" "$2" && dd if="$1" of="$2" conv=notrunc status=none
}

# ---- a sparse ,rw image on a full file system (issue 14 item 1): 4 MiB
# sparse on a 256 KiB tmpfs.  The fourth 127-sector write no longer fits.
# Before: SIGBUS (status 135), no message, the guest never told.
if need_kvm disk-full-fs-rw; then
	if [ "$(id -u)" != 0 ]; then
		t_skip disk-full-fs-rw "needs root to mount a 256 KiB tmpfs (the SVM test host pass runs it)"
	else
		MNT=$TMP/small
		mkdir -p "$MNT" && mount -t tmpfs -o size=256k nobios-disk-test "$MNT"
		disk_with "$W" "$MNT/sparse.img" 4M
		run_split 60 --disk "$MNT/sparse.img,rw"
		n=$(printf '%s' "$OUT" | sed -n 's/.*DISKIO: write error AH=CC after \([0-9]*\) chunks.*/\1/p')
		check disk-full-fs-rw eval '[ "$RC" = 10 ] && [ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -lt 64 ] &&
			[ "$(err_count "No space left on device (the guest got INT 13h status CCh")" = 1 ] &&
			err_has "$MNT/sparse.img: " && err_has "failed while the guest ran" ||
			{ OUT="$OUT $ERR"; false; }'
		echo "   the guest wrote $n chunks before the write fault"
		umount "$MNT"; MNT=
	fi
fi

# ---- an image truncated by another process while the guest reads LBA 100.
# Before: SIGBUS.  Now AH=04h (sector not found) and one line; the guest's
# own status (4 << 1 | 1).
if need_kvm disk-truncated-while-reading; then
	disk_with "$R" "$TMP/shrink.img" 4M
	start_bg shrink --disk "$TMP/shrink.img"
	if wait_for "$TMP/shrink.out" "DISKIO: reading" 30; then
		truncate -s 32K "$TMP/shrink.img"
		timeout 30 tail --pid="$BG" -f /dev/null; wait "$BG"; RC=$?; BG=
		OUT=$(cat "$TMP/shrink.out"); ERR=$(cat "$TMP/shrink.err")
		check disk-truncated-while-reading eval '[ "$RC" = 9 ] && has "DISKIO: read error AH=04" &&
			err_has "the file now ends at byte 32768" &&
			[ "$(err_count "the guest got INT 13h status 04h")" = 1 ] || { OUT="$OUT $ERR"; false; }'
	else
		kill "$BG"; wait "$BG"; RC=$?; BG=
		OUT="$(cat "$TMP/shrink.out" "$TMP/shrink.err")"
		t_fail disk-truncated-while-reading "the probe never started reading: $(printf '%s' "$OUT" | tail -3 | tr '\n' '|')"
	fi
fi

# ---- two VMs on one image: ,rw is exclusive, readers share.
if need_kvm disk-lock-second-writer disk-lock-reader-beside-writer disk-lock-readers-share disk-lock-released-at-exit; then
	disk_with "$R" "$TMP/shared.img" 1M
	start_bg first --disk "$TMP/shared.img,rw"
	if wait_for "$TMP/first.out" "DISKIO: reading" 30; then
		run_split 20 --disk "$TMP/shared.img,rw"
		check disk-lock-second-writer eval '[ "$RC" = 2 ] && err_has "$TMP/shared.img: in use by another process (locked)" && [ "$(printf "%s\n" "$ERR" | grep -c .)" = 1 ]'
		run_split 20 --disk "$TMP/shared.img,snapshot"
		check disk-lock-reader-beside-writer eval '[ "$RC" = 2 ] && err_has "in use by another process (locked)"'
		kill -TERM "$BG"; wait "$BG"; BG=
		# the lock is gone as soon as the first nobios has exited (its
		# VM's teardown continues in a child process holding no image)
		start_bg again --disk "$TMP/shared.img,rw"
		wait_for "$TMP/again.out" "DISKIO: reading" 30; ok=$?
		kill -TERM "$BG"; wait "$BG"; BG=
		OUT=$(cat "$TMP/again.out" "$TMP/again.err"); RC=$ok
		check disk-lock-released-at-exit eval '[ "$ok" = 0 ]'
		start_bg r1 --disk "$TMP/shared.img"
		wait_for "$TMP/r1.out" "DISKIO: reading" 30
		r1=$BG
		start_bg r2 --disk "$TMP/shared.img,snapshot"
		wait_for "$TMP/r2.out" "DISKIO: reading" 30; ok=$?
		kill -TERM "$BG" "$r1"; wait "$BG" "$r1"; BG=
		OUT=$(cat "$TMP/r2.out" "$TMP/r2.err"); RC=$ok
		check disk-lock-readers-share eval '[ "$ok" = 0 ]'
	else
		kill "$BG"; wait "$BG"; BG=
		for n in disk-lock-second-writer disk-lock-reader-beside-writer disk-lock-readers-share disk-lock-released-at-exit; do
			t_fail $n "the first VM never started reading: $(tail -3 "$TMP/first.out" "$TMP/first.err" | tr '\n' '|')"
		done
	fi
fi

# ---- a 64 GiB sparse image with ,snapshot: opens at once, memory flat, the
# guest's 4 MiB of writes read back, the image untouched.  Before: "cannot
# map: Cannot allocate memory" where RAM + swap < 64 GiB.
if need_kvm disk-snapshot-64g; then
	BIG=$TMP/big.img
	if disk_with "$W" "$BIG" 64G 2>/dev/null; then
		start=$(date +%s%N)
		OUT=$(TMPDIR=$TMP /usr/bin/time -f 'maxrss %M' -o "$TMP/rss" timeout -k 5 120 "$NOBIOS" \
			--disk "$BIG,snapshot" </dev/null 2>"$TMP/err"); RC=$?
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		ERR=$(cat "$TMP/err")
		rss=$(sed -n 's/^maxrss //p' "$TMP/rss")
		lba16=$(od -A n -t x4 -j $((16 * 512)) -N 4 "$BIG" | tr -d ' ')
		used=$(du -k "$BIG" | cut -f1)
		check disk-snapshot-64g eval '[ "$RC" = 1 ] && has "DISKIO: wrote 64 chunks, read back ok" &&
			[ -n "$rss" ] && [ "$rss" -lt 65536 ] && [ "$lba16" = 00000000 ] && [ "$used" -lt 1024 ] ||
			{ OUT="$OUT $ERR"; false; }'
		echo "   64 GiB sparse ,snapshot image: ${ms} ms start to exit, peak RSS ${rss} KiB, image still ${used} KiB on disk"
	else
		t_skip disk-snapshot-64g "cannot make a 64 GiB sparse file in $TMP"
	fi
fi

# ---- ,rw on the project tree itself: a 9p mount in the SVM test host,
# where a shared writable mapping is refused.  Before: "cannot map: Invalid
# argument" (status 2).
if need_kvm disk-rw-on-tree; then
	IMG=$BUILD/disk-test-rw.$$.img
	cp "$HD" "$IMG"
	fs=$(findmnt -n -o FSTYPE -T "$IMG" 2>/dev/null)
	run_nobios 30 --disk "$IMG,rw"
	w=$(od -A n -t x4 -j $((200 * 512)) -N 4 "$IMG" | tr -d ' ')
	rm -f "$IMG"
	check disk-rw-on-tree eval '[ "$RC" = 1 ] && has "PROBE-PASS" && has "WRITE: ok" && [ "$w" = 5ec7abcd ]'
	echo "   the tree's file system here: $fs"
fi

# ---- the flush at exit fails (EIO from fdatasync, injected by
# tests/boot/fault_inject.c): one line naming the image, status 10.  Before:
# status 1, nothing said.
FI=$BUILD/tests/fault_inject.so
if need_kvm disk-flush-error-at-exit; then
	if [ -f "$FI" ]; then
		cp "$HD" "$TMP/sync.img"
		OUT=$(ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$PWD/$FI NOBIOS_FI_FDATASYNC=1 timeout -k 5 60 "$NOBIOS" \
			--disk "$TMP/sync.img,rw" </dev/null 2>"$TMP/err"); RC=$?
		ERR=$(cat "$TMP/err")
		check disk-flush-error-at-exit eval '[ "$RC" = 10 ] && has "PROBE-PASS" &&
			err_has "$TMP/sync.img: flushing the image to storage failed: Input/output error" || { OUT="$OUT $ERR"; false; }'
	else
		t_skip disk-flush-error-at-exit "$FI not built (make guests)"
	fi
fi

# ---- kernel and initrd files that shrink while nobios reads them: the
# shim truncates the file right after nobios's fstat of it, before the
# bytes are read.  Before: SIGBUS (status 135).  No KVM needed: loading
# comes first; --timeout keeps a run that misses the error short.
if [ -f "$FI" ] && [ -f "$CORPUS/SHA256SUMS" ]; then
	cp "$CORPUS/linux/vmlinux-cloud-amd64.elf" "$TMP/vmlinux"
	OUT=$(ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$PWD/$FI NOBIOS_FI_SHRINK="$TMP/vmlinux:1048576" timeout -k 5 60 \
		"$NOBIOS" run "$TMP/vmlinux" --timeout 2 </dev/null 2>&1); RC=$?
	check disk-kernel-shrinks-while-read eval '[ "$RC" = 2 ] && has "$TMP/vmlinux: changed size while being read (53243444 bytes when opened, it ended at 1048576)"'
	cp "$CORPUS/linux/initramfs-corpus.cpio.gz" "$TMP/initrd"
	OUT=$(ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$PWD/$FI NOBIOS_FI_SHRINK="$TMP/initrd:100000" timeout -k 5 60 \
		"$NOBIOS" run "$CORPUS/linux/vmlinuz-cloud-amd64" --initrd "$TMP/initrd" --timeout 2 </dev/null 2>&1); RC=$?
	check disk-initrd-shrinks-while-read eval '[ "$RC" = 2 ] && has "$TMP/initrd: changed size while being read"'
else
	for n in disk-kernel-shrinks-while-read disk-initrd-shrinks-while-read; do
		t_skip $n "needs $FI (make guests) and the corpus (make corpus)"
	done
fi
