#!/bin/bash
# exec.sh - `nobios exec KERNEL -- CMD` (README "nobios exec"): CMD's exit
# status exactly, stdout and stderr apart and in order, packed static and
# dynamic programs without 9p, the statuses of a guest that panics, hangs
# past --timeout or stops before CMD's status; and, on any host, the
# errors that come before a guest runs (bad flags, a file --pack cannot
# read, a malformed ELF).
. "$(dirname "$0")/lib.sh"
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
LIMIT=${LIMIT:-240}
W=$BUILD/exec-test
mkdir -p "$W"

# ---- before any guest: runs on every host
run_nobios 20 exec "$KERNEL"
check exec-needs-command eval '[ "$RC" = 2 ] && has "exec needs a command"'
run_nobios 20 run "$KERNEL" --pack /bin/true
check exec-flags-only-exec eval '[ "$RC" = 2 ] && has "--pack is a flag of nobios exec"'
run_nobios 20 exec "$KERNEL" --pack "$W/no-such-file" -- true
check exec-pack-missing eval '[ "$RC" = 2 ] && has "$W/no-such-file" && has "No such file"'
# an x86-64 ELF64 header whose program headers lie past the end of the file
python3 -c 'import struct, sys; sys.stdout.buffer.write(b"\x7fELF\x02\x01\x01" + bytes(9) +
	struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0x10000, 0, 0, 64, 56, 1, 64, 0, 0))' > "$W/bad.elf"
run_nobios 20 exec "$KERNEL" --pack "$W/bad.elf" -- true
check exec-pack-malformed-elf eval '[ "$RC" = 2 ] && has "$W/bad.elf: program headers outside the file"'
run_nobios 20 exec --kernel-from-build "$W/no-tree" -- true
check exec-kernel-from-build eval '[ "$RC" = 2 ] && has "$W/no-tree/arch/x86/boot/bzImage"'

ALL="exec-true exec-exit-7 exec-signal exec-not-found exec-no-9p-error exec-streams exec-streams-merged
     exec-stdin exec-stdin-large exec-pack-dynamic exec-pack-static exec-panic exec-poweroff exec-timeout"
# shellcheck disable=SC2086
need_kvm $ALL || exit 0
# shellcheck disable=SC2086
need_corpus $ALL || exit 0
# shellcheck disable=SC2086
hw_virt_host || { for n in $ALL; do t_skip "$n" "Linux boots take tens of minutes where ring-0 code is emulated ($HOST_KIND)"; done; exit 0; }

# ex SECS ARGS...: nobios exec with a time limit; stdout in $W/out, stderr in $W/err
ex() {
	local secs=$1; shift
	local t0=$SECONDS
	timeout -k 5 "$secs" "$NOBIOS" exec "$KERNEL" "$@" </dev/null >"$W/out" 2>"$W/err"; RC=$?
	OUT="$(cat "$W/out") || $(cat "$W/err")"
	echo "   exec $*: $((SECONDS - t0)) s, status $RC"
}

ex "$LIMIT" --timeout $((LIMIT - 10)) -- true
check exec-true eval '[ "$RC" = 0 ] && [ ! -s "$W/out" ] && [ ! -s "$W/err" ]'

ex "$LIMIT" --timeout $((LIMIT - 10)) -- sh -c 'exit 7'
check exec-exit-7 eval '[ "$RC" = 7 ]'

ex "$LIMIT" --timeout $((LIMIT - 10)) -- sh -c 'kill -9 $$'
check exec-signal eval '[ "$RC" = 137 ]'

ex "$LIMIT" --timeout $((LIMIT - 10)) --no-host-root -- /no/such/program
check exec-not-found eval '[ "$RC" = 127 ] && grep -q "/no/such/program" "$W/err"'

# This kernel has no 9p (Debian's cloud kernel): with nothing packed, the
# host's files are all CMD could have had, and the error names what the
# kernel lacks (status 14).
ex "$LIMIT" --timeout $((LIMIT - 10)) -- /no/such/program
check exec-no-9p-error eval '[ "$RC" = 14 ] && grep -q "CONFIG_9P_FS" "$W/err" &&
	grep -q "CONFIG_NET_9P_VIRTIO" "$W/err" && grep -q -- "--pack" "$W/err"'

# Apart and in order: stdout has only CMD's stdout (no kernel messages),
# stderr only CMD's stderr, and merged (2>&1) they keep CMD's order.
ex "$LIMIT" --timeout $((LIMIT - 10)) --env GREETING=hi -- \
	sh -c 'echo out1 $GREETING; echo err1 >&2; echo out2; echo err2 >&2; echo out3; exit 3'
check exec-streams eval '[ "$RC" = 3 ] && [ "$(cat "$W/out")" = "$(printf "out1 hi\nout2\nout3")" ] &&
	[ "$(cat "$W/err")" = "$(printf "err1\nerr2")" ]'
t0=$SECONDS
OUT=$(timeout -k 5 "$LIMIT" "$NOBIOS" exec "$KERNEL" --timeout $((LIMIT - 10)) -- \
	sh -c 'for i in 1 2 3 4 5; do echo o$i; echo e$i >&2; done' </dev/null 2>&1); RC=$?
echo "   merged: $((SECONDS - t0)) s, status $RC"
check exec-streams-merged eval '[ "$RC" = 0 ] &&
	[ "$(printf "%s" "$OUT" | tr "\n" " ")" = "o1 e1 o2 e2 o3 e3 o4 e4 o5 e5" ]'

# stdin: a pipe reaches CMD (lines in order, then end of file); a large
# one in many chunks.  (Every other test gives /dev/null: CMD gets
# /dev/null.)
t0=$SECONDS
OUT=$(printf 'abc\ndef\n' | timeout -k 5 "$LIMIT" "$NOBIOS" exec "$KERNEL" --timeout $((LIMIT - 10)) -- \
	sh -c 'read a; read b; echo "$b $a"; if read c; then echo more; else echo eof; fi' 2>&1); RC=$?
echo "   stdin: $((SECONDS - t0)) s, status $RC"
check exec-stdin eval '[ "$RC" = 0 ] && [ "$OUT" = "$(printf "def abc\neof")" ]'
t0=$SECONDS
OUT=$(seq 1 30000 | timeout -k 5 "$LIMIT" "$NOBIOS" exec "$KERNEL" --timeout $((LIMIT - 10)) -- \
	sh -c 'n=0; s=0; while read l; do n=$((n + 1)); s=$((s + l)); done; echo $n $s' 2>&1); RC=$?
echo "   stdin (large): $((SECONDS - t0)) s, status $RC"
check exec-stdin-large eval '[ "$RC" = 0 ] && [ "$OUT" = "30000 450015000" ]'

# A dynamic helper of our own, packed with its libraries (no 9p in play:
# --no-pack-cmd, so the only copy of it in the guest is --pack's).
cat > "$W/helper.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char cwd[256];
	printf("helper argc=%d %s %s env=%s cwd=%s\n", argc, argv[1], argv[2],
	       getenv("NB_TEST"), getcwd(cwd, sizeof(cwd)));
	return 42;
}
C
if gcc -o "$W/helper" "$W/helper.c" 2>"$W/gcc.err"; then
	ex "$LIMIT" --timeout $((LIMIT - 10)) --no-pack-cmd --pack "$W/helper" --env NB_TEST=yes \
		--cwd /tmp -- "$PWD/$W/helper" "a b" c
	check exec-pack-dynamic eval '[ "$RC" = 42 ] &&
		[ "$(cat "$W/out")" = "helper argc=3 a b c env=yes cwd=/tmp" ]'
else
	t_fail exec-pack-dynamic "gcc: $(head -3 "$W/gcc.err")"
fi

# Debian's busybox-static from the corpus initramfs: a static program.
rm -rf "$W/bb" && mkdir -p "$W/bb"
if (cd "$W/bb" && gzip -dc "$OLDPWD/$CORPUS/linux/initramfs-corpus.cpio.gz" | cpio -id bin/busybox 2>/dev/null) &&
	[ -x "$W/bb/bin/busybox" ]; then
	ex "$LIMIT" --timeout $((LIMIT - 10)) --no-pack-cmd --pack "$W/bb/bin/busybox" -- \
		"$PWD/$W/bb/bin/busybox" sh -c 'echo static; exit 9'
	check exec-pack-static eval '[ "$RC" = 9 ] && [ "$(cat "$W/out")" = static ]'
else
	t_fail exec-pack-static "cannot unpack busybox from the corpus initramfs"
fi

# A panic: status 8, and the console's last lines name it.
ex "$LIMIT" --timeout $((LIMIT - 10)) --root -- sh -c 'echo c > /proc/sysrq-trigger'
check exec-panic eval '[ "$RC" = 8 ] && grep -q "kernel panicked" "$W/err" &&
	grep -q "Kernel panic" "$W/err"'

# The guest powers off before CMD's status: status 12.  CMD must outlive
# the power-off, which sysrq queues as work: it waits in a loop of shell
# builtins (no `sleep` is packed: sh would exit 127 at once and race it).
ex "$LIMIT" --timeout $((LIMIT - 10)) --root -- sh -c 'echo o > /proc/sysrq-trigger; while :; do :; done'
check exec-poweroff eval '[ "$RC" = 12 ] && grep -q "before the command.s status" "$W/err"'

# Past --timeout: status 4, said so.
ex "$LIMIT" --timeout 60 -- sleep 1000
check exec-timeout eval '[ "$RC" = 4 ] && grep -q "timeout expired while the command ran" "$W/err"'
