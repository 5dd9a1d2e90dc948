#!/bin/bash
# sandbox.sh - the seccomp allow-list (src/util/sandbox.h): the guest boots
# with it in force (default), a forbidden call nobios is made to attempt is
# refused with one line naming it (status 6), and --no-sandbox turns it off.
# NOBIOS_SANDBOX_SELFTEST makes nobios attempt the call right after the
# filter is installed, before the guest's first instruction
# (src/kvm/sandbox_enter.c).  The rest of the boot suite runs with the
# sandbox on too: every guest, device, gdb session and failure dump there
# is a check that the allow-list is complete.
. "$(dirname "$0")/lib.sh"
DEMO=$GUESTS/demo.bzImage

# no KVM needed: the flag and its documentation
run_nobios 10 --help
check sandbox-flag-documented has "--no-sandbox"

need_kvm sandbox-demo-boots sandbox-refuses-execve sandbox-refuses-openat \
	sandbox-off-allows || exit 0

run_nobios 30 run "$DEMO" --cmdline "sandboxed" -v
check sandbox-demo-boots eval '[ "$RC" = 0 ] && has "nobios: sandbox: in force" &&
	has "command line: \"console=ttyS0 " && has " sandboxed\"" && has "Demo done"'

OUT=$(NOBIOS_SANDBOX_SELFTEST=execve timeout -k 5 30 "$NOBIOS" run "$DEMO" </dev/null 2>&1); RC=$?
check sandbox-refuses-execve eval '[ "$RC" = 6 ] && has "nobios: sandbox: refused system call 59 (execve)" &&
	[ "$(printf "%s\n" "$OUT" | grep -c "refused system call")" = 1 ]'

OUT=$(NOBIOS_SANDBOX_SELFTEST=openat timeout -k 5 30 "$NOBIOS" run "$DEMO" </dev/null 2>&1); RC=$?
check sandbox-refuses-openat eval '[ "$RC" = 6 ] && has "refused system call 257 (openat)"'

# without the sandbox the same attempt fails harmlessly and the guest boots
OUT=$(NOBIOS_SANDBOX_SELFTEST=execve timeout -k 5 30 "$NOBIOS" run "$DEMO" --no-sandbox </dev/null 2>&1); RC=$?
check sandbox-off-allows eval '[ "$RC" = 0 ] && has "sandbox self-test: execve returned -1" && has "Demo done"'
