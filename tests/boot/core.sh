#!/bin/bash
# core.sh - the front end's contract (usage errors, exit statuses) and the
# demo guest booted the way the README's first command boots it.
. "$(dirname "$0")/lib.sh"
DEMO=$GUESTS/demo.bzImage

# --- usage errors: one line naming the flag or file, status 2, no KVM needed
usage_case() { # NAME EXPECTED-TEXT ARGS...
	local name=$1 want=$2; shift 2
	run_nobios 10 "$@"
	if [ "$RC" = 2 ] && has "$want" && [ "$(printf '%s\n' "$OUT" | grep -c .)" = 1 ]; then
		t_pass "$name"
	else
		t_fail "$name" "rc=$RC (want 2), output: $(printf '%s' "$OUT" | head -3 | tr '\n' '|')"
	fi
}
usage_case cli-unknown-flag "unknown option '--bogus'" run "$DEMO" --bogus
usage_case cli-missing-value "--initrd needs a value" run "$DEMO" --initrd
usage_case cli-bad-size "-m: '12Q' is not a size" run "$DEMO" -m 12Q
usage_case cli-nothing-to-boot "nothing to boot" run
usage_case cli-unknown-command "unknown command 'frob'" frob
usage_case cli-unknown-protocol "unknown protocol 'nope'" run "$DEMO" --boot-protocol nope
usage_case cli-bad-timeout "is not a positive number of seconds" run "$DEMO" --timeout -1
usage_case cli-gdb-wait-alone "--gdb-wait needs --gdb PORT" run "$DEMO" --gdb-wait
usage_case cli-disk-option "--disk: unknown option 'rx'" run --disk /tmp/x.img,rx
usage_case cli-disk-rw-snapshot "rw and snapshot exclude each other" run --disk /tmp/x.img,rw,snapshot

run_nobios 10 --help
check cli-help eval '[ "$RC" = 0 ] && has "Exit status" && has "--boot-protocol"'
# --version: NOBIOS_VERSION, and "(git DESCRIBE)" when built in a git
# checkout; DESCRIBE must name a commit of this repository
want_version=$(sed -n 's/^#define NOBIOS_VERSION "\(.*\)"/\1/p' src/nobios.h)
run_nobios 10 --version
version_ok() {
	[ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || return 1
	local rest=${OUT#"nobios $want_version"}
	[ "$rest" != "$OUT" ] || return 1
	if [ -e .git ] && command -v git >/dev/null; then
		[[ $rest =~ ^\ \(git\ ([A-Za-z0-9._+-]+)\)$ ]] || return 1
		# git reads its own describe output (TAG-N-gHASH, HASH, TAG) back
		git rev-parse -q --verify "${BASH_REMATCH[1]%-dirty}^{commit}" >/dev/null
	else
		[ -z "$rest" ]
	fi
}
check cli-version version_ok
# --version -v: every library nobios may dlopen(), found or not; each one
# the dynamic linker knows (ldconfig) must be reported found, at a real file
run_nobios 10 --version -v
vv=$OUT
lib_report_ok() {
	[ "$RC" = 0 ] || return 1
	local so line path
	for so in libunicorn.so.2 libz.so.1 liblzma.so.5 libzstd.so.1 liblz4.so.1 libbz2.so.1.0; do
		line=$(printf '%s\n' "$OUT" | grep -E "^  $so +(found|not found)") || { echo "  no line for $so"; return 1; }
		if /sbin/ldconfig -p | grep -q "^[[:space:]]$so "; then
			path=$(printf '%s' "$line" | sed -n 's/.* at \(\/[^ ]*\) (.*/\1/p')
			[ -f "$path" ] || { echo "  $so: not reported found at a file: $line"; return 1; }
		fi
	done
}
check cli-version-verbose lib_report_ok
run_nobios 10 -v --version
check cli-version-verbose-any-order eval '[ "$RC" = 0 ] && [ "$OUT" = "$vv" ]'

# --- bad input files: status 2 and the file's name in the message, whether
# or not this machine has /dev/kvm (inputs are checked before KVM is opened)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
usage_case missing-file "$tmp/none: cannot open" run "$tmp/none"
usage_case directory-kernel "$tmp: is a directory" run "$tmp"
: > "$tmp/empty"
usage_case empty-kernel "$tmp/empty: empty file" run "$tmp/empty"
head -c 5000 /dev/urandom > "$tmp/junk"
usage_case not-a-kernel "$tmp/junk: not a bootable image" run "$tmp/junk"
usage_case too-small-ram "too small" run "$DEMO" -m 1M

need_kvm demo-boot demo-cmdline demo-e820 demo-timeout demo-debug-exit demo-qemu-spelling \
	demo-no-default-cmdline || exit 0

# --- the demo guest: README's first command
run_nobios 30 run "$DEMO" --cmdline "hello from the host"
check demo-boot eval '[ "$RC" = 0 ] && has "Hello from the nobios demo kernel" && has "Demo done"'
# a bzImage is a Linux kernel to nobios: the default command line goes in front
check demo-cmdline has 'command line: "console=ttyS0 panic=-1 reboot=k,panic_warm hello from the host"'
check demo-e820 eval 'has "[mem 0x0-0x9fbff] usable" && has "[mem 0x9fc00-0x9ffff] reserved" &&
	has "[mem 0xe0000-0xfffff] reserved" && has "[mem 0x100000-0xfffffff] usable"'
run_nobios 30 run "$DEMO" --no-default-cmdline --cmdline "hello from the host"
check demo-no-default-cmdline eval '[ "$RC" = 0 ] && has "command line: \"hello from the host\""'
run_nobios 30 --kernel "$DEMO" --append "qemu spelling" -m 512
check demo-qemu-spelling eval '[ "$RC" = 0 ] &&
	has "command line: \"console=ttyS0 panic=-1 reboot=k,panic_warm qemu spelling\"" &&
	has "[mem 0x100000-0x1fffffff] usable"'

# --- a guest that never exits: --timeout ends it with status 4 and a dump
# Built from the demo's bzImage head with a main that spins.
cat > "$tmp/spin.c" <<'C'
void demo_main(void *zp);
void demo_main(void *zp) { (void)zp; for (;;) __asm__ volatile("pause"); }
C
if gcc -ffreestanding -fno-pic -fno-pie -nostdlib -O2 -m64 -static -Wl,--build-id=none \
	-Wl,-T,guests/demo/demo.ld -Wl,--no-warn-rwx-segments -o "$tmp/spin.elf" guests/demo/head.S "$tmp/spin.c" &&
	objcopy -O binary "$tmp/spin.elf" "$tmp/spin.bzImage"; then
	run_nobios 30 run "$tmp/spin.bzImage" --timeout 1
	check demo-timeout eval '[ "$RC" = 4 ] && has "guest still running after --timeout 1 s" && has "RIP"'
else
	t_fail demo-timeout "could not build the spinning guest"
fi

# --- debug-exit status: (v << 1) | 1, from a guest that writes 0x21 to port 0xF4
cat > "$tmp/exit.c" <<'C'
void demo_main(void *zp);
void demo_main(void *zp) { (void)zp; __asm__ volatile("outb %0, $0xf4" :: "a"((unsigned char)0x21)); for (;;) ; }
C
if gcc -ffreestanding -fno-pic -fno-pie -nostdlib -O2 -m64 -static -Wl,--build-id=none \
	-Wl,-T,guests/demo/demo.ld -Wl,--no-warn-rwx-segments -o "$tmp/exit.elf" guests/demo/head.S "$tmp/exit.c" &&
	objcopy -O binary "$tmp/exit.elf" "$tmp/exit.bzImage"; then
	run_nobios 30 run "$tmp/exit.bzImage"
	check demo-debug-exit eval '[ "$RC" = 67 ]'
else
	t_fail demo-debug-exit "could not build the exit guest"
fi
