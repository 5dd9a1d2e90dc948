#!/bin/bash
# emul_linux.sh - Debian's kernel with a plain command line (no noxsave, no
# clearcpuid) on an emulating host (kvm_pvm): every instruction KVM's emulator
# refuses on the way (SSE moves, xrstors/xsaves, xgetbv, popcnt, clac/stac,
# cmpxchg16b, ...) must be completed by nobios.  Asserts, in order, the
# console lines that follow them: the FPU/xstate set-up, then the end of
# kernel init and the corpus initramfs (CORPUS-LINUX-OK, `reboot -f`).
# Tens of minutes where ring-0 code is emulated, hence `make check-slow`.
# LIMIT (seconds) overrides the time limit; the log goes to $LOG.
. "$(dirname "$0")/../lib.sh"
need_kvm emul-linux-xstate emul-linux-init emul-linux-full || exit 0
need_corpus emul-linux-xstate emul-linux-init emul-linux-full || exit 0
LIMIT=${LIMIT:-5400}
LOG=${LOG:-/tmp/nobios-emul-linux.log}
start=$(date +%s)
run_nobios "$LIMIT" run "$CORPUS/linux/vmlinuz-cloud-amd64" \
	--initrd "$CORPUS/linux/initramfs-corpus.cpio.gz" --cmdline "console=ttyS0 panic=-1" \
	-m 512M -v --timeout $((LIMIT - 10))
end=$(date +%s)
printf '%s\n' "$OUT" > "$LOG"
echo "emul-linux: $((end - start)) s, exit status $RC (log: $LOG)"
printf '%s\n' "$OUT" | grep -E '^nobios: completions:' | sed 's/^/  /'
# in_order A B: line A appears, and B after it
in_order() {
	local a b
	a=$(printf '%s\n' "$OUT" | grep -nF -- "$1" | head -1 | cut -d: -f1)
	b=$(printf '%s\n' "$OUT" | grep -nF -- "$2" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
check emul-linux-xstate eval 'has "x86/fpu: Enabled xstate features" && ! has "noxsave"'
check emul-linux-init eval 'in_order "x86/fpu: Enabled xstate features" "Freeing unused kernel image"'
check emul-linux-full eval '[ "$RC" = 0 ] && has "CORPUS-LINUX-OK"'
