#!/bin/bash
# bios.sh - the pseudo-BIOS: probe boot disks (hard disk read-only, ,rw and
# ,snapshot; diskette), bad input, linux16, and syslinux from the corpus.
. "$(dirname "$0")/lib.sh"

HD=$GUESTS/bios-probe-hd.img
FD=$GUESTS/bios-probe-fd.img
TMP=$(mktemp -d)
cleanup() { chattr -i "$TMP"/* 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

probe_ok() { [ "$RC" = 1 ] && has "PROBE-PASS"; }
# run_split SECS ARGS...: like run_nobios, console (stdout) in OUT and the
# -v trace (stderr) in LOG, so the trace does not cut console lines apart.
run_split() {
	local secs=$1; shift
	OUT=$(timeout -k 5 "$secs" "$NOBIOS" "$@" </dev/null 2>"$TMP/log"); RC=$?
	LOG=$(cat "$TMP/log")
}
logged() { printf '%s' "$LOG" | grep -qF -- "$1"; }
# run_until SECS PATTERN ARGS...: OUT/LOG/RC as run_split; stops nobios
# once PATTERN is on the console or in the -v log.
run_until() {
	local secs=$1 pat=$2; shift 2
	"$NOBIOS" "$@" </dev/null >"$TMP/out" 2>"$TMP/log" &
	local pid=$! t=0
	while kill -0 "$pid" 2>/dev/null && [ "$t" -lt $((secs * 10)) ]; do
		grep -qF -- "$pat" "$TMP/out" "$TMP/log" && break
		sleep 0.1; t=$((t + 1))
	done
	kill "$pid" 2>/dev/null; wait "$pid"; RC=$?
	OUT=$(cat "$TMP/out"); LOG=$(cat "$TMP/log")
}

if need_kvm bios-probe-hd bios-probe-hd-rw bios-probe-hd-snapshot bios-probe-floppy \
	bios-forced-protocol bios-keyboard bios-int18 bios-trace bios-int13-hook; then
	run_nobios 30 --disk "$HD"
	check bios-probe-hd eval 'probe_ok && has "WRITE: refused"'
	# issue 13 item 4: the probe hooks INT 13h and chains to the BIOS (by
	# pushf/call far and by a far jump); -v traces the chained calls (from
	# the hook's code in segment 0) and the services that answer "not
	# present" (EDD 3.0 device path, PCI BIOS, APM, VBE)
	run_split 30 -v --disk "$HD"
	check bios-int13-hook eval 'probe_ok && has "INT13-HOOK: chained" &&
		logged "device path ISA ATA master 1F0h" &&
		logged "PCI BIOS installation check: not present" &&
		logged "APM function 00h: APM not present" && logged "VBE function 00h: not supported"'

	cp "$HD" "$TMP/rw.img"
	run_nobios 30 --disk "$TMP/rw.img,rw"
	# sector 200 now starts with the probe's marker 5EC7ABCD (little-endian)
	w=$(od -A n -t x4 -j $((200 * 512)) -N 4 "$TMP/rw.img" | tr -d ' ')
	check bios-probe-hd-rw eval 'probe_ok && has "WRITE: ok" && [ "$w" = 5ec7abcd ]'

	cp "$HD" "$TMP/snap.img"
	run_nobios 30 --disk "$TMP/snap.img,snapshot"
	check bios-probe-hd-snapshot eval 'probe_ok && has "WRITE: ok" && cmp -s "$HD" "$TMP/snap.img"'

	run_nobios 30 --floppy "$FD"
	check bios-probe-floppy probe_ok

	run_nobios 30 --boot-protocol bios "$HD"
	check bios-forced-protocol probe_ok

	# INT 16h: keys typed on the console (COM1 input) with scan codes
	OUT=$( (sleep 0.5; printf 'xy\r') | timeout -k 5 20 "$NOBIOS" --disk "$GUESTS/bios-keys.img" 2>&1); RC=$?
	check bios-keyboard eval '[ "$RC" = 1 ] && has "KEYS-OK"'

	# INT 18h: no bootable device, a clear message and status 4
	{ printf '\xcd\x18\xf4'; head -c 507 /dev/zero; printf '\x55\xaa'; } > "$TMP/int18.img"
	run_nobios 10 --disk "$TMP/int18.img"
	check bios-int18 eval '[ "$RC" = 4 ] && has "INT 18h: no bootable device"'

	# -v traces every call with its arguments and result
	run_split 30 -v --disk "$HD"
	check bios-trace eval 'probe_ok && logged "bios: INT 13h AX=4264" && logged "read LBA 100, 3 sectors to 0x30000" && logged "#0 [0x0-0x9fbff] usable"'
fi

# ---- the pseudo-BIOS under a direct boot (issue 13 item 5): a Multiboot 1
# kernel reads the reset vector at 0xFFFFFFF0 (the firmware mapped read-only
# at the top of 4 GiB), drops to real mode and calls INT 15h E820 and INT 10h;
# with --no-bios it finds the INT 15h vector empty (status 0x33).
if need_kvm bios-direct-mb1 bios-direct-rom bios-direct-no-bios bios-direct-trace; then
	run_split 30 -v "$GUESTS/bios-direct.bin"
	check bios-direct-rom eval 'has "BIOS-DIRECT: reset vector at 0xFFFFFFF0 reads the firmware, read-only"'
	check bios-direct-mb1 eval '[ "$RC" = $(((0x31 << 1) | 1)) ] && has "INT 15h E820 and INT 10h answered in real mode"'
	check bios-direct-trace eval 'logged "pseudo-BIOS installed under the multiboot entry" && logged "bios: INT 15h AX=E820" && logged "firmware image also at [0xffff0000, 0x100000000)"'
	run_split 30 --no-bios "$GUESTS/bios-direct.bin"
	check bios-direct-no-bios eval '[ "$RC" = $(((0x33 << 1) | 1)) ]'
fi

# ---- bad input: each a one-line error and status 2 (no KVM needed to fail)
head -c 1048576 /dev/zero > "$TMP/nosig.img"
run_nobios 10 --disk "$TMP/nosig.img"
check bios-bad-no-signature eval '[ "$RC" = 2 ] && has "not a bootable disk image"'
run_nobios 10 --boot-protocol bios --disk "$TMP/nosig.img"
check bios-bad-no-signature-forced eval '[ "$RC" = 2 ] && has "no boot signature 55 AA at offset 510"'
# a disk is a disk: a kernel format forced on a --disk image is refused
run_nobios 10 --boot-protocol multiboot --disk "$HD"
check bios-bad-kernel-format-on-disk eval '[ "$RC" = 2 ] && has "boots a kernel file, not a disk image"'
: > "$TMP/empty.img"
run_nobios 10 --disk "$TMP/empty.img"
check bios-bad-empty eval '[ "$RC" = 2 ] && has "empty"'
mkdir "$TMP/dir.img"
run_nobios 10 --disk "$TMP/dir.img"
check bios-bad-directory eval '[ "$RC" = 2 ] && has "directory"'
cp "$HD" "$TMP/ro.img"
if [ "$(id -u)" = 0 ]; then ro_ok=$(chattr +i "$TMP/ro.img" 2>/dev/null && echo y); else chmod 444 "$TMP/ro.img"; ro_ok=y; fi
if [ "$ro_ok" = y ]; then
	run_nobios 10 --disk "$TMP/ro.img,rw"
	check bios-bad-rw-not-writable eval '[ "$RC" = 2 ] && has "cannot open read-write"'
else
	t_skip bios-bad-rw-not-writable "cannot make a file unwritable here (root without chattr +i)"
fi
head -c 1000 /dev/zero > "$TMP/odd.img"
run_nobios 10 --floppy "$TMP/odd.img"
check bios-bad-floppy-size eval '[ "$RC" = 2 ]'

# ---- Debian's bzImage through its 16-bit setup code and the pseudo-BIOS:
# the setup code's own BIOS calls, then its first console line.
if need_kvm bios-linux16 && need_corpus bios-linux16; then
	run_until 60 "Probing EDD (edd=off to disable)... ok" -v --boot-protocol linux16 "$CORPUS/linux/vmlinuz-cloud-amd64" \
		--initrd "$CORPUS/linux/initramfs-corpus.cpio.gz" \
		--cmdline "console=ttyS0 earlyprintk=serial,ttyS0,115200 debug"
	check bios-linux16 eval 'logged "bios: INT 15h AX=EC00" && logged "from 9000:" && logged "#3 [0x100000-" && has "early console in setup code"'
fi

# ---- syslinux 6.04 from the corpus: MBR, ldlinux.sys, its config, the
# kernel and initrd read through INT 13h, then Linux's setup code: its own
# BIOS calls (INT 15h EC00h is Linux's, syslinux never makes it) and its first
# console line.  The run stops there; the kernel itself takes minutes here.
if need_kvm bios-syslinux-banner bios-syslinux-kernel && need_corpus bios-syslinux-banner bios-syslinux-kernel; then
	IMG=$CORPUS/syslinux-linux-hdd.img
	start=$(date +%s.%N)
	run_until 240 "Probing EDD (edd=off to disable)... ok" -v --disk "$IMG,snapshot"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	check bios-syslinux-banner has "SYSLINUX 6.04"
	if has "CORPUS-SYSLINUX-CFG" || ! logged "instruction emulation failed"; then
		check bios-syslinux-kernel eval 'has "CORPUS-SYSLINUX-CFG" && has "Loading /vmlinuz... ok" && has "Loading /initrd.gz...ok" && logged "bios: INT 15h AX=EC00" && has "Probing EDD (edd=off to disable)... ok"'
	else
		# KVM's emulator (kvm_pvm) refuses an instruction of syslinux that
		# nobios's completion engine (issue 6) did not finish either.
		t_fail bios-syslinux-kernel "KVM's instruction emulator refused an instruction of syslinux that nobios did not complete: $(printf '%s' "$LOG" | grep -m1 -A1 'instruction emulation failed' | tail -1)"
	fi
	echo "   syslinux to Linux's first console line: ${secs}s"
fi
