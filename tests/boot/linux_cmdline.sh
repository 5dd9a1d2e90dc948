#!/bin/bash
# linux_cmdline.sh - issue 12: a Linux kernel booted with no --cmdline says
# something and ends.  nobios adds console=ttyS0 panic=-1 reboot=k,panic_warm
# (README "Default command line"): Debian's kernel then shows its banner on
# the console, reaches the corpus initramfs (whose init reboots: status 0),
# and a panic (no root file system) ends nobios with status 8.  Every Linux
# format gets the same line (bzimage, PVH vmlinux, linux16 through the
# pseudo-BIOS).  The -v checks need no KVM: the line is built and shown
# before /dev/kvm is opened.
. "$(dirname "$0")/lib.sh"
DEMO=$GUESTS/demo.bzImage
DEBIAN=$CORPUS/linux/vmlinuz-cloud-amd64
VMLINUX=$CORPUS/linux/vmlinux-cloud-amd64.elf
INITRD=$CORPUS/linux/initramfs-corpus.cpio.gz
DEFAULTS="console=ttyS0 panic=-1 reboot=k,panic_warm"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The line -v reports: nobios: Linux command line (N of at most M bytes): "..."
shown_line() { printf '%s\n' "$OUT" | sed -n 's/^nobios: Linux command line ([^)]*): "\(.*\)"$/\1/p'; }

# boot_until SECS PATTERN ARGS...: run nobios (stdout+stderr to a log) until
# it exits or PATTERN appears on its console; OUT = the log, RC = its status
# or "stopped" when the test ended it at PATTERN.
boot_until() {
	local secs=$1 pat=$2; shift 2
	local log=$tmp/boot.log
	timeout -k 5 "$secs" "$NOBIOS" "$@" </dev/null >"$log" 2>&1 &
	local pid=$!
	RC=
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$pat" ] && grep -qaF -- "$pat" "$log"; then
			kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; RC=stopped; break
		fi
		sleep 0.5
	done
	[ -z "$RC" ] && { wait "$pid"; RC=$?; }
	OUT=$(tr -d '\r' < "$log")
}

# --- -v shows the final line (no KVM needed) --------------------------------
run_nobios 30 run "$DEMO" -v --cmdline "hello"
check cmdline-verbose-shows-line eval \
	'[ "$(shown_line)" = "console=ttyS0 earlyprintk=serial panic=-1 reboot=k,panic_warm hello" ] &&
	 has "added in front: console=ttyS0 earlyprintk=serial panic=-1 reboot=k,panic_warm"'
run_nobios 30 run "$DEMO" -v --cmdline "console=ttyS1 panic=3 reboot=t x"
check cmdline-user-settings-kept eval '[ "$(shown_line)" = "console=ttyS1 panic=3 reboot=t x" ]'
run_nobios 30 run "$DEMO" -v --no-default-cmdline --cmdline "exactly this"
check cmdline-no-default eval '[ "$(shown_line)" = "exactly this" ] && has "no defaults added (--no-default-cmdline)"'
# not Linux: a multiboot kernel's line is never touched; with KVM the probe
# echoes what it got, then exits through port 0xF4 (21: status 43)
run_nobios 30 run "$GUESTS/devices_probe.elf" -v --cmdline "action=exit-21"
if have_kvm; then
	check cmdline-not-linux-untouched eval '! has "Linux command line" && [ "$RC" = 43 ] &&
		has "cmdline '"'"'action=exit-21'"'"'"'
else
	check cmdline-not-linux-untouched eval '! has "Linux command line" && ! has "console=ttyS0" &&
		has "loaded as "'
fi

if need_corpus cmdline-debian-bzimage-verbose cmdline-debian-pvh-verbose; then
	# Debian's real headers: cmdline_size 2047, Linux notes in the vmlinux.
	# With KVM, stop once loading is done ("loaded as", after the line)
	# instead of booting the kernel.
	boot_until 60 ": loaded as " run "$DEBIAN" -v
	check cmdline-debian-bzimage-verbose eval \
		'[ "$(shown_line)" = "console=ttyS0 earlyprintk=serial panic=-1 reboot=k,panic_warm" ] &&
		 has "of at most 2047 bytes"'
	boot_until 60 ": loaded as " run "$VMLINUX" -v --cmdline "ro"
	check cmdline-debian-pvh-verbose eval \
		'has "loaded as pvh" && [ "$(shown_line)" = "console=ttyS0 earlyprintk=serial panic=-1 reboot=k,panic_warm ro" ]'
fi

# --- Debian's kernel under KVM with no --cmdline ------------------------------
T_BOOT="linux-nocmdline-banner linux-nocmdline-userspace-reboot"
T_PANIC="linux-panic-status"
T_FORMATS="linux-nocmdline-pvh linux-nocmdline-linux16"
need_kvm $T_BOOT $T_PANIC $T_FORMATS || exit 0
need_corpus $T_BOOT $T_PANIC $T_FORMATS || exit 0

cmdline_seen() { printf '%s\n' "$OUT" | sed -n 's/.*\] Command line: //p' | head -1; }

if runs_here $T_BOOT; then
	# the issue's first run: vmlinuz and an initrd, nothing else
	boot_until 200 "" run "$DEBIAN" --initrd "$INITRD" --timeout 180
	check linux-nocmdline-banner eval 'has "Linux version 6.1" && [ "$(cmdline_seen)" = "$DEFAULTS" ]'
	# the corpus init prints /proc/cmdline and runs `reboot -f`: a reboot,
	# not a panic, so status 0 (Linux wrote 0, not 0x1234, at 0x472)
	check linux-nocmdline-userspace-reboot eval '[ "$RC" = 0 ] && has "CORPUS-LINUX-OK" &&
		has "CORPUS: cmdline: $DEFAULTS" && ! has "panicked"'
fi

if runs_here $T_PANIC; then
	# no initrd and no root=: "VFS: Unable to mount root fs", a panic
	boot_until 200 "" run "$DEBIAN" --timeout 180
	check linux-panic-status eval '[ "$RC" = 8 ] && has "Kernel panic - not syncing" &&
		has "nobios: the guest kernel panicked" && [ "$(cmdline_seen)" = "$DEFAULTS" ]'
fi

if runs_here $T_FORMATS; then
	# the other Linux formats get the same line; the console proves it (the
	# RAM map follows "Command line:", so that line is complete by then)
	boot_until 120 "BIOS-provided physical RAM map" run "$VMLINUX" --timeout 100
	check linux-nocmdline-pvh eval 'has "Linux version 6.1" && [ "$(cmdline_seen)" = "$DEFAULTS" ]'
	boot_until 120 "BIOS-provided physical RAM map" run "$DEBIAN" --boot-protocol linux16 \
		--timeout 100
	check linux-nocmdline-linux16 eval 'has "Linux version 6.1" && [ "$(cmdline_seen)" = "$DEFAULTS" ]'
fi
