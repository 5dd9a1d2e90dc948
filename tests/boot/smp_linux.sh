#!/bin/bash
# smp_linux.sh - Debian's kernel on several vCPUs, and its way out.
#   linux-smp-cpus4   --cpus 4 with the corpus initramfs: Linux parses the
#                     ACPI tables (RSDP at 0xE0000, MADT), allows and brings
#                     up 4 CPUs, the initramfs counts cpus=4, and its
#                     `reboot -f` ends nobios with status 0 (-v: through the
#                     reset vector's RESET_REG write, the BIOS method Linux
#                     uses on a hardware-reduced ACPI platform; so without
#                     nobios's default reboot=k).
#   linux-poweroff    --cpus 4 with an initramfs of our own (the corpus's
#                     busybox, our /init): `nproc` says 4, then `poweroff -f`
#                     ends nobios with status 0 through the FADT's
#                     SLEEP_CONTROL_REG (not the keyboard controller), run on
#                     a pseudo-terminal, which nobios must leave as it found it.
#   linux-poweroff-pc the same initramfs through the kernel's 16-bit setup
#                     (--boot-protocol linux16: the pseudo-BIOS's POST runs,
#                     so the FADT describes a PC): `poweroff -f` goes through
#                     PM1a_CNT's SLP_TYP/SLP_EN, status 0, and Linux reports
#                     no ACPI errors about the PC's fixed hardware.
# Seconds where guest code runs in hardware; tens of minutes on kvm_pvm
# (tests/boot/host-limits).
. "$(dirname "$0")/lib.sh"
ALL="linux-smp-cpus4 linux-poweroff linux-poweroff-pc"
need_kvm $ALL || exit 0
need_corpus $ALL || exit 0
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
LIMIT=${LIMIT:-400}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

timed() { # NAME ARGS...
	local name=$1 t0=$SECONDS; shift
	run_nobios "$LIMIT" "$@" --timeout $((LIMIT - 10))
	echo "   $name: $((SECONDS - t0)) s, exit status $RC"
}

if runs_here linux-smp-cpus4; then
	timed linux-smp-cpus4 run "$KERNEL" --initrd "$CORPUS/linux/initramfs-corpus.cpio.gz" \
		--cmdline "console=ttyS0 panic=-1" --no-default-cmdline -m 512M --cpus 4 -v
	check linux-smp-cpus4 eval '[ "$RC" = 0 ] && has "CORPUS-LINUX-OK" &&
		has "CORPUS: cpus=4 MemTotal" && has "ACPI: RSDP 0x00000000000E0000" &&
		has "ACPI: Using ACPI (MADT) for SMP configuration information" &&
		has "smpboot: Allowing 4 CPUs, 0 hotplug CPUs" && has "smp: Brought up 1 node, 4 CPUs" &&
		! has "not listed by BIOS" && ! has "MADT or MP tables are not detected" &&
		! has "ACPI BIOS Error" && ! has "ACPI Error" &&
		has "guest requested reset (jump to the reset vector"'
fi

power_initrd() {
	# The corpus initramfs's busybox with an /init of our own.
	[ -f "$WORK/power.cpio.gz" ] && return 0
	mkdir -p "$WORK/root"
	corpus_initrd=$(realpath "$CORPUS/linux/initramfs-corpus.cpio.gz")
	(cd "$WORK/root" && gzip -dc "$corpus_initrd" | cpio -id --quiet) ||
		t_fail linux-poweroff "cannot unpack the corpus initramfs"
	cat > "$WORK/root/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "POWER: nproc=$(/bin/busybox nproc) cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"
/bin/busybox poweroff -f
/bin/busybox echo "POWER: still running after poweroff -f"
/bin/busybox sleep 30
EOF
	chmod +x "$WORK/root/init"
	(cd "$WORK/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/power.cpio.gz"
}

if runs_here linux-poweroff; then
	power_initrd
	t0=$SECONDS
	OUT=$(python3 "$(dirname "$0")/pty_run.py" "$LIMIT" -- "$NOBIOS" run "$KERNEL" \
		--initrd "$WORK/power.cpio.gz" --cmdline "console=ttyS0 panic=-1" -m 512M --cpus 4 \
		-v --timeout $((LIMIT - 10)) 2>&1); RC=$?
	echo "   linux-poweroff: $((SECONDS - t0)) s"
	check linux-poweroff eval '[ "$RC" = 0 ] && has "POWER: nproc=4 cpus=4" &&
		has "reboot: Power down" && ! has "still running" &&
		has "guest requested power-off (ACPI SLEEP_CONTROL_REG, SLP_TYP 5 = S5)" &&
		! has "i8042 0xFE" && has "PTY: status 0, terminal restored, raw while running"'
fi

if runs_here linux-poweroff-pc; then
	power_initrd
	timed linux-poweroff-pc run --boot-protocol linux16 "$KERNEL" --initrd "$WORK/power.cpio.gz" \
		--cmdline "console=ttyS0 panic=-1" -m 512M -v
	check linux-poweroff-pc eval '[ "$RC" = 0 ] && has "POWER: nproc=1 cpus=1" &&
		has "FADT: PC (PM1a blocks, PM timer, FACS)" && has "ACPI: FACS 0x" &&
		has "reboot: Power down" && ! has "still running" &&
		has "guest requested power-off (ACPI PM1a_CNT, SLP_TYP 5 = S5)" &&
		! has "ACPI BIOS Error" && ! has "ACPI Error" && ! has "ACPI BIOS Warning"'
fi
