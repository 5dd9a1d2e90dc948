#!/bin/bash
# devices.sh - the legacy devices seen by a guest: RTC, CMOS memory bytes,
# 0xE9 debug console, UART registers, i8042; resets (0xFE, 0xCF9, 0x92) end
# nobios with status 0; debug-exit statuses; 0xE9 output on stdout.
. "$(dirname "$0")/lib.sh"

PROBE=$GUESTS/devices_probe.elf
ALL="devices-probe-64M devices-probe-512M devices-e9-stdout devices-reboot-kbd devices-reboot-cf9 devices-reboot-92 devices-debug-exit devices-uart-input-polled devices-uart-input-irq devices-tty-escape devices-tty-sigterm devices-tty-sigsegv"
need_kvm $ALL || exit 0
if [ ! -f "$PROBE" ]; then
	for n in $ALL; do t_fail "$n" "$PROBE not built (make guests)"; done
	exit 0
fi

# The probe checks everything and finishes through 0xF4 with value 0:
# status 1 and PROBE-PASS on success.
for mib in 64 512; do
	run_nobios 120 run "$PROBE" -m "${mib}M" --cmdline "ram_mib=$mib now=$(date -u +%s)"
	check "devices-probe-${mib}M" eval '[ "$RC" = 1 ] && has PROBE-PASS && has "DEBUGCON-OK"'
done

# 0xE9 writes reach stdout itself (not only stderr).
out=$(timeout -k 5 120 "$NOBIOS" run "$PROBE" -m 64M --cmdline "ram_mib=64" </dev/null 2>/dev/null)
RC=$?; OUT=$out
check devices-e9-stdout eval '[ "$RC" = 1 ] && printf "%s" "$out" | grep -qx "DEBUGCON-OK"'

# Reset requests end nobios with status 0, through each port.
for how in kbd cf9 92; do
	run_nobios 120 run "$PROBE" -m 64M --cmdline "action=reboot-$how"
	check "devices-reboot-$how" eval '[ "$RC" = 0 ] && ! has STILL-RUNNING'
done

# Debug-exit value 21 gives (21 << 1) | 1 = 43.
run_nobios 120 run "$PROBE" -m 64M --cmdline "action=exit-21"
check devices-debug-exit eval '[ "$RC" = 43 ]'

# COM1 input from a pipe: polled (earlyprintk-style) and through IRQ 4 and
# the 8259 with THRE-interrupt output (Linux 8250-style).  The input is sent
# once the guest says it is ready (it clears the FIFOs first: input sent
# earlier is rightly lost, which a fixed delay made flaky under QEMU's TCG),
# and arrives while the guest is idle in hlt.
uart_input() { # ACTION READY-LINE INPUT: sets OUT and RC
	local dir; dir=$(mktemp -d)
	mkfifo "$dir/in"
	timeout -k 5 60 "$NOBIOS" run "$PROBE" --cmdline "action=$1" < "$dir/in" > "$dir/out" 2>&1 &
	local pid=$! i
	exec 7> "$dir/in"
	for i in $(seq 1 400); do
		grep -q "$2" "$dir/out" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.2
	printf "$3" >&7
	exec 7>&-
	wait $pid; RC=$?
	OUT=$(cat "$dir/out")
	rm -rf "$dir"
}
uart_input echo ECHO-READY 'hi\033q'
check devices-uart-input-polled eval '[ "$RC" = 1 ] && has "got 0x68" && has "got 0x69" && has "got 0x1b"'
uart_input irq-echo IRQ-READY 'hello\003q'
check devices-uart-input-irq eval '[ "$RC" = 1 ] && has "IRQ-TX-OK" && has "IRQ-RX: hello<0x3>"'

# A terminal on stdin: raw while the guest runs (Ctrl-C goes to the guest),
# Ctrl-A x quits with status 0, and the terminal is restored on exit, on
# SIGTERM and on SIGSEGV.
for mode in escape sigterm sigsegv; do
	if ! command -v python3 >/dev/null; then
		t_skip "devices-tty-$mode" "python3 not installed (needed for the pty)"
		continue
	fi
	san=; case $BUILD in *asan*) san=asan ;; esac
	OUT=$(python3 "$(dirname "$0")/devices_tty.py" "$NOBIOS" "$PROBE" "$mode" $san 2>&1); RC=$?
	check "devices-tty-$mode" eval '[ "$RC" = 0 ]'
done
