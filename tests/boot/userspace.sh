#!/bin/bash
# userspace.sh - Debian's kernel all the way to the corpus initramfs's
# CORPUS-LINUX-OK and its `reboot -f` (nobios then ends with status 0), by
# each way nobios boots it: the bzImage (host-decompressed, 64-bit entry),
# the vmlinux through PVH, and the syslinux disk through the pseudo-BIOS.
# Seconds where guest code runs in hardware (VMX/SVM, the SVM test host);
# tens of minutes where ring-0 code is emulated (kvm_pvm: tests/boot/host-limits,
# and `make check-slow` runs them there).  The kernel must find KVM through
# CPUID (the hypervisor bit and KVM's leaves) and use kvm-clock: without
# them it hangs calibrating the TSC in the SVM test host.
. "$(dirname "$0")/lib.sh"
ALL="linux-userspace-bzimage linux-userspace-pvh bios-syslinux-userspace"
need_kvm $ALL || exit 0
need_corpus $ALL || exit 0
INITRD=$CORPUS/linux/initramfs-corpus.cpio.gz
CMDLINE="console=ttyS0 panic=-1"
LIMIT=${LIMIT:-300}

# reached_userspace: the initramfs ran and the guest rebooted itself.
reached_userspace() {
	[ "$RC" = 0 ] && has "CORPUS: init reached" && has "CORPUS-LINUX-OK" &&
		has "Hypervisor detected: KVM" && has "clocksource: Switched to clocksource kvm-clock"
}
timed() { # NAME ARGS...: run_nobios, and say how long it took
	local name=$1 t0=$SECONDS; shift
	run_nobios "$LIMIT" "$@" --timeout $((LIMIT - 10))
	echo "   $name: $((SECONDS - t0)) s, exit status $RC"
}

if runs_here linux-userspace-bzimage; then
	timed linux-userspace-bzimage run "$CORPUS/linux/vmlinuz-cloud-amd64" --initrd "$INITRD" \
		--cmdline "$CMDLINE" -m 512M
	# one vCPU, described by ACPI and MP tables all the same (issue 9)
	check linux-userspace-bzimage eval 'reached_userspace && has "cpus=1 MemTotal:" &&
		! has "not listed by BIOS" && ! has "MADT or MP tables are not detected"'
fi

if runs_here linux-userspace-pvh; then
	timed linux-userspace-pvh run "$CORPUS/linux/vmlinux-cloud-amd64.elf" --initrd "$INITRD" \
		--cmdline "$CMDLINE" -m 512M
	# nobios adds the reboot= the line lacks (README "Default command line")
	check linux-userspace-pvh eval 'reached_userspace &&
		has "CORPUS: cmdline: reboot=k,panic_warm $CMDLINE"'
fi

if runs_here bios-syslinux-userspace; then
	timed bios-syslinux-userspace --disk "$CORPUS/syslinux-linux-hdd.img,snapshot" -m 512M
	check bios-syslinux-userspace eval 'reached_userspace && has "CORPUS-SYSLINUX-CFG" &&
		has "Loading /vmlinuz... ok"'
fi
