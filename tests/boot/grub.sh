#!/bin/bash
# grub.sh - GRUB 2 (i386-pc, Debian 12's grub-pc-bin) from a disk image
# through the pseudo-BIOS (issue 13 item 1): the disks scripts/grub-images.sh
# builds (boot.img + core.img with an embedded script, a FAT16 partition).
# A disk is a disk: GRUB's core.img carries a Multiboot header, yet --disk
# boots it through the BIOS; GRUB then boots Linux by `linux16` and by
# `linux` (its 32-bit path) to the corpus's userspace marker, a Multiboot 2
# probe, and chainloads a boot sector.
. "$(dirname "$0")/lib.sh"

G=${GRUB_IMAGES:-$BUILD/grub}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ALL="grub-disk-is-disk grub-inspect-conflict grub-first-line grub-multiboot2 grub-chainload grub-lnxboot-protocol-2.03 grub-linux16 grub-linux"

# The images are built on this machine (apt-get download needs the
# network and the package lists; the SVM test host has neither) by
# `make grub-images`; here they are only made when missing.
if [ ! -f "$G/grub-chain.img" ] && [ "${NOBIOS_TEST_HOST:-}" != svm ]; then
	scripts/grub-images.sh "$G" "$GUESTS" "$CORPUS" >"$TMP/build.log" 2>&1 ||
		echo "   grub-images.sh failed: $(tail -1 "$TMP/build.log")"
fi
if [ ! -f "$G/grub-chain.img" ]; then
	for n in $ALL; do t_skip "$n" "no GRUB test disks in $G (make grub-images: needs apt-get download of grub-pc-bin, grub-common)"; done
	exit 0
fi

# run_until SECS PATTERN ARGS...: console in OUT, -v trace in LOG, RC the
# status (or "stopped" when PATTERN showed and nobios was stopped).
run_until() {
	local secs=$1 pat=$2; shift 2
	"$NOBIOS" "$@" </dev/null >"$TMP/out" 2>"$TMP/log" &
	local pid=$! t=0 seen=0
	while kill -0 "$pid" 2>/dev/null && [ "$t" -lt $((secs * 10)) ]; do
		if grep -qF -- "$pat" "$TMP/out"; then seen=1; break; fi
		sleep 0.1; t=$((t + 1))
	done
	kill "$pid" 2>/dev/null; wait "$pid"; RC=$?
	grep -qF -- "$pat" "$TMP/out" && [ $seen = 1 ] && RC=stopped
	OUT=$(cat "$TMP/out"); LOG=$(cat "$TMP/log")
}
# run_to_end SECS ARGS...: the same, until nobios ends by itself.
run_to_end() {
	local secs=$1; shift
	timeout -k 5 "$secs" "$NOBIOS" "$@" </dev/null >"$TMP/out" 2>"$TMP/log"; RC=$?
	OUT=$(cat "$TMP/out"); LOG=$(cat "$TMP/log")
}
logged() { printf '%s' "$LOG" | grep -qF -- "$1"; }
report() { # NAME COND: check, with the console's and trace's tails on failure
	if eval "$2"; then t_pass "$1"; else
		t_fail "$1" "rc=$RC; console: $(printf '%s' "$OUT" | tail -4 | tr '\n' '|'); trace: $(printf '%s' "$LOG" | grep -v 'bios: INT 1[03]h' | tail -3 | tr '\n' '|')"
	fi
}

# ---- no KVM needed: what detection makes of the disk in each role
OUT=$("$NOBIOS" inspect "$G/grub-chain.img" 2>&1); RC=$?
report grub-inspect-conflict '[ "$RC" = 0 ] && has "conflict: 2 formats match (multiboot, bios)" && has "with --disk/--floppy: bios"'

if need_kvm grub-disk-is-disk grub-first-line grub-multiboot2 grub-chainload grub-lnxboot-protocol-2.03; then
	# -v: "loaded as bios" (before the fix: "loaded as multiboot", nothing printed)
	run_to_end 60 -v --disk "$G/grub-chain.img"
	report grub-disk-is-disk 'logged "loaded as bios" && ! logged "loaded as multiboot"'
	report grub-first-line 'has "NOBIOS-GRUB-CFG chainloader"'
	report grub-chainload '[ "$RC" = 35 ] && has "CHAIN-OK DL=80"'

	# lnxboot.img + core.img: boot protocol 2.03 (issue 13 item 3), no
	# 64-bit entry, no payload: its 16-bit setup by default; GRUB then reads
	# (hd0,msdos1) from the --disk beside it and chainloads its boot sector
	if [ -f "$G/grub-lnxboot.lkrn" ]; then
		run_to_end 60 -v "$G/grub-lnxboot.lkrn" --disk "$G/grub-chain.img"
		report grub-lnxboot-protocol-2.03 '[ "$RC" = 35 ] && logged "loaded as linux16" && has "NOBIOS-GRUB-CFG chainloader" && has "CHAIN-OK DL=80"'
	else
		t_skip grub-lnxboot-protocol-2.03 "no $G/grub-lnxboot.lkrn (make grub-images)"
	fi

	run_to_end 60 --disk "$G/grub-mb2.img"
	report grub-multiboot2 '[ "$RC" = 67 ] && has "NOBIOS-GRUB-CFG multiboot2" && has "MB2-PROBE: boot loader: GRUB" && has "memory map tag present"'
fi

if [ ! -f "$G/grub-linux16.img" ]; then
	for n in grub-linux16 grub-linux; do t_skip "$n" "no corpus kernel when the GRUB disks were built (make corpus grub-images)"; done
elif need_kvm grub-linux16 grub-linux && runs_here grub-linux16 grub-linux; then
	run_until 300 "CORPUS-LINUX-OK" --disk "$G/grub-linux16.img,snapshot" -m 512M
	report grub-linux16 'has "NOBIOS-GRUB-CFG linux16" && has "CORPUS-LINUX-OK"'
	run_until 300 "CORPUS-LINUX-OK" --disk "$G/grub-linux.img,snapshot" -m 512M
	# GRUB's 32-bit path leaves the 8259s as POST left them (BIOS vectors,
	# timer unmasked); the FADT after POST describes a PC (PM1 blocks, no
	# HW_REDUCED_ACPI), so Linux sets the PICs up itself.  Before that fix
	# it took IRQ0 on vector 08h at its first interrupt enable: a "double
	# fault".
	report grub-linux 'has "NOBIOS-GRUB-CFG linux" && has "CORPUS-LINUX-OK"'
fi
