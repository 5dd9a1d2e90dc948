#!/bin/bash
# gdb.sh - the gdb stub (issue 5) with Debian's gdb in batch mode: break on a
# symbol of the probe kernel, continue, read variables, step, detach; hardware
# breakpoints and watchpoints; Ctrl-C and kill with a raw protocol client.
. "$(dirname "$0")/lib.sh"
TESTS="gdb-break-step-detach gdb-write-mem-regs gdb-hbreak-watch gdb-interrupt-kill gdb-i386"
need_kvm $TESTS || exit 0
if ! command -v gdb >/dev/null; then
	for n in $TESTS; do t_skip "$n" "gdb is not installed"; done
	exit 0
fi
PROBE=$GUESTS/debug_probe.elf
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# gdb_session NAME GDB-ARGS...: nobios --gdb PORT --gdb-wait in the
# background, gdb in batch mode against it; sets GDB_OUT, NB_OUT, NB_RC.
gdb_session() {
	local port; port=$(free_port)
	timeout -k 5 60 "$NOBIOS" run "$PROBE" --gdb "$port" --gdb-wait </dev/null >"$tmp/nb.out" 2>&1 &
	local pid=$!
	GDB_OUT=$(timeout -k 5 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" "$@" "$PROBE" 2>&1)
	wait $pid; NB_RC=$?
	NB_OUT=$(cat "$tmp/nb.out")
	OUT="$GDB_OUT
--- nobios:
$NB_OUT"; RC=$NB_RC
}
gdb_has() { printf '%s' "$GDB_OUT" | grep -qF -- "$1"; }

# The brief's session: break, continue, print, stepi, info registers rip, detach.
gdb_session -ex 'break debug_target' -ex continue -ex 'print probe_value' -ex 'print x' \
	-ex 'print/x $cr0' -ex 'x/s probe_buffer' -ex stepi -ex 'info registers rip' -ex detach
check gdb-break-step-detach eval 'gdb_has "Breakpoint 1, debug_target (x=10) at tests/guests/debug/debug_probe.c:16" &&
	gdb_has "\$1 = 4660" && gdb_has "\$2 = 10" && gdb_has "\$3 = 0x80000031" &&
	gdb_has "<probe_buffer>:	\"nobios-gdb\"" &&
	printf "%s" "$GDB_OUT" | grep -Eq "^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <debug_target\+[0-9]+>" &&
	gdb_has "[Inferior 1 (Remote target) detached]" &&
	[ "$NB_RC" = 1 ] && printf "%s" "$NB_OUT" | grep -q PROBE-PASS'

# Memory and register writes (M, P/G packets) go into the guest.
gdb_session -ex 'break debug_target' -ex continue -ex 'set var probe_calls = 40' \
	-ex 'print probe_calls' -ex 'set $rdi = 0x77' -ex 'print/x $rdi' -ex delete -ex continue
check gdb-write-mem-regs eval 'gdb_has "\$1 = 40" && gdb_has "\$2 = 0x77" &&
	gdb_has "[Inferior 1 (Remote target) exited with code " && [ "$NB_RC" != 1 ] &&
	printf "%s" "$NB_OUT" | grep -q "FAIL.*probe_calls == 3: 0x2b != 0x3"'

# Hardware breakpoint hit twice (the stub steps over it when resuming), then a
# write watchpoint, then the guest runs to its end and gdb sees the exit code.
gdb_session -ex 'hbreak debug_target' -ex continue -ex continue -ex 'print x' -ex delete \
	-ex 'watch probe_calls' -ex continue -ex delete -ex continue
check gdb-hbreak-watch eval 'gdb_has "Hardware assisted breakpoint 1 at" &&
	gdb_has "Breakpoint 1, debug_target (x=10)" && gdb_has "Breakpoint 1, debug_target (x=11)" &&
	gdb_has "\$1 = 11" && gdb_has "Hardware watchpoint 2: probe_calls" &&
	gdb_has "Old value = 1" && gdb_has "New value = 2" &&
	gdb_has "[Inferior 1 (Remote target) exited with code 01]" && [ "$NB_RC" = 1 ]'

# Attach to a running guest (no --gdb-wait), continue, Ctrl-C, kill.
port=$(free_port)
timeout -k 5 60 "$NOBIOS" run "$GUESTS/crash_spin.elf" -v --gdb "$port" --timeout 50 </dev/null >"$tmp/nb.out" 2>&1 &
pid=$!
GDB_OUT=$(timeout -k 5 30 python3 "$(dirname "$0")/gdb_rsp.py" "$port" 2>&1)
wait $pid; RC=$?
OUT="$GDB_OUT
--- nobios:
$(cat "$tmp/nb.out")"
check gdb-interrupt-kill eval 'gdb_has "attach-stop T02thread:1;" && gdb_has "threads m1" &&
	gdb_has "interrupt-stop T02thread:1;" && gdb_has "rip 0x100012" && gdb_has "mem fa0f011d" &&
	[ "$RC" = 0 ] && has "killed from gdb (exit status 0)"'

# A 32-bit guest gets the i386 description; its triple fault ends gdb's
# session as a signal.
PROBE=$GUESTS/crash_nopae.elf
gdb_session -ex 'info registers eip' -ex 'p/x $cr0' -ex stepi -ex 'info registers eip' -ex continue
check gdb-i386 eval 'printf "%s" "$GDB_OUT" | grep -Eq "^eip +0x10000c +0x10000c <_start>" &&
	gdb_has "\$1 = 0x31" && printf "%s" "$GDB_OUT" | grep -Eq "^eip +0x10000d " &&
	gdb_has "Program terminated with signal SIGSEGV" && [ "$NB_RC" = 4 ] &&
	printf "%s" "$NB_OUT" | grep -q "triple fault"'
