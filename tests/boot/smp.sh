#!/bin/bash
# smp.sh - several vCPUs with probe guests of our own (tests/guests/smp/):
# each image gets the ACPI RSDP its own way (PVH's rsdp_paddr, Multiboot2's
# ACPI tags, Multiboot 1 and the legacy scan), checks every ACPI and MP table
# byte against what nobios promises, checks that the PIT's IRQ 0 arrives on
# IOAPIC pin 2 as both tables say, then starts every AP itself with
# INIT-SIPI-SIPI and has each report its APIC ID.  Also: power-off through
# the FADT's sleep control register, a guest whose every vCPU sleeps for
# good, and --cpus out of range.
. "$(dirname "$0")/lib.sh"

# --- usage: no KVM needed
run_nobios 10 run "$GUESTS/smp-pvh.elf" --cpus 0
check smp-cpus-0 eval '[ "$RC" = 2 ] && has "--cpus"'
run_nobios 10 run "$GUESTS/smp-pvh.elf" --cpus 256
check smp-cpus-256 eval '[ "$RC" = 2 ] && has "--cpus"'

PROBES=""
for f in pvh mb2 mb1; do for n in 1 2 4; do PROBES="$PROBES smp-probe-$f-cpus$n"; done; done
need_kvm $PROBES smp-probe-poweroff smp-probe-all-asleep smp-timeout-dumps-all smp-sigterm \
	smp-ap-triple-fault || exit 0

# aps_reported N: every AP 1..N-1 said "AP up: APIC ID i, CPUID.1 APIC ID i", once
aps_reported() {
	local n=$1 i
	for ((i = 1; i < n; i++)); do
		[ "$(printf '%s\n' "$OUT" | grep -c "^AP up: APIC ID $i, CPUID.1 APIC ID $i")" = 1 ] ||
			return 1
	done
	[ "$(printf '%s\n' "$OUT" | grep -c '^AP up:')" = $((n - 1)) ]
}

for f in pvh mb2 mb1; do
	proto=$f; [ $f = mb2 ] && proto=multiboot2; [ $f = mb1 ] && proto=multiboot
	for n in 1 2 4; do
		run_nobios 60 run "$GUESTS/smp-$f.elf" --boot-protocol $proto --cpus $n \
			--cmdline "cpus=$n" --timeout 40 -v
		check smp-probe-$f-cpus$n eval '[ "$RC" = 1 ] && has "PROBE-PASS" &&
			has "SMP: $n CPUs up" && aps_reported $n &&
			has "IRQ 0 through IOAPIC pin 2" && has "MADT: $n local APICs"'
	done
done

# The ACPI power-off path, from a guest with APs running: status 0, and -v
# names the register.
run_nobios 60 run "$GUESTS/smp-pvh.elf" --cpus 2 --cmdline "cpus=2 action=poweroff" \
	--timeout 40 -v
check smp-probe-poweroff eval '[ "$RC" = 0 ] && has "powering off through SLEEP_CONTROL_REG" &&
	has "guest requested power-off (ACPI SLEEP_CONTROL_REG, SLP_TYP 5 = S5)"'

# Every vCPU asleep for good (the BSP halted with IF=0, the APs parked the
# same way): the hang watcher ends the guest with status 4 and dumps each
# vCPU, well before --timeout.
run_nobios 60 run "$GUESTS/smp-mb2.elf" --cpus 3 --cmdline "cpus=3 action=halt" --timeout 30
check smp-probe-all-asleep eval '[ "$RC" = 4 ] && has "SMP: 3 CPUs up" &&
	has "every vCPU is halted with interrupts disabled or waits for INIT/SIPI" &&
	has "nobios: vCPU 2 (APIC ID 2):" && ! has "after --timeout"'

# --timeout stops every vCPU and dumps each; SIGTERM stops them all with
# the signal's status; an AP's own triple fault ends the guest, named.
run_nobios 60 run "$GUESTS/smp-pvh.elf" --cpus 2 --cmdline "cpus=2 action=spin" --timeout 3
check smp-timeout-dumps-all eval '[ "$RC" = 4 ] && has "guest still running after --timeout 3 s" &&
	has "nobios: vCPU 0 (APIC ID 0):" && has "nobios: vCPU 1 (APIC ID 1):"'
t0=$SECONDS
log=$(mktemp)
"$NOBIOS" run "$GUESTS/smp-pvh.elf" --cpus 4 --cmdline "cpus=4 action=spin" --timeout 50 \
	</dev/null >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "the BSP spins now" "$log" && break; sleep 0.1; done
kill -TERM $pid; wait $pid; RC=$?
OUT=$(cat "$log"); rm -f "$log"
check smp-sigterm eval '[ "$RC" = 143 ] && has "SMP: 4 CPUs up" && has "stopped by signal 15" &&
	[ $((SECONDS - t0)) -lt 30 ]'
run_nobios 60 run "$GUESTS/smp-mb2.elf" --cpus 2 --cmdline "cpus=2 action=ap-fault" --timeout 30
check smp-ap-triple-fault eval '[ "$RC" = 4 ] && has "AP up: APIC ID 1" &&
	has "vCPU 1: triple fault (KVM_EXIT_SHUTDOWN)" && ! has "nobios: vCPU 0 (APIC ID 0):"'
