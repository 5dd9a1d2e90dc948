#!/bin/bash
# hostile.sh - crafted input files (issue 14 items 5-7), through the
# command line as a user would meet them.  No KVM needed: nobios reads and
# checks every input before it opens /dev/kvm.  Files come from crafted.py.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! python3 "$LIB_DIR/crafted.py" "$tmp" "$GUESTS/demo.bzImage" "$GUESTS/direct-elf64.elf"; then
	t_fail hostile-files "crafted.py could not write the hostile files"
	exit 0
fi

# Item 5: note and symbol walks were headers x entries, and inspect walked
# the notes twenty times: 60+ s for this 4.7 MB file, 3+ s for the 6 MB one
# (native; the SVM test host's TCG runs everything about ten times slower,
# the bounds scale with it).
slow=1; [ "$HOST_KIND" = svm ] && slow=10
t0=$(date +%s%N)
run_nobios $((20 * slow)) inspect "$tmp/notes.elf"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check hostile-inspect-notes eval '[ "$RC" = 0 ] && [ $ms -lt $((5000 * slow)) ] && has "format: pvh" &&
	has "note Xen 18 PHYS32_ENTRY"'
t0=$(date +%s%N)
run_nobios $((20 * slow)) inspect "$tmp/symtab.elf"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check hostile-inspect-symtab eval '[ "$RC" = 2 ] && [ $ms -lt $((2000 * slow)) ] && has "without a '"'start64'"' symbol"'
t0=$(date +%s%N)
run_nobios $((20 * slow)) run "$tmp/symtab.elf"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check hostile-run-symtab eval '[ "$RC" = 2 ] && [ $ms -lt $((2000 * slow)) ] && has "not a bootable image"'

# Item 6: "HdrS" at 0x202 in a 0x207-byte file: the version's high byte
# (0x207) is not in the file.  Under ASan a heap copy of it showed the read.
run_nobios 10 inspect "$tmp/hdrs-0x207.bin"
check hostile-inspect-0x207 eval '[ "$RC" = 2 ] && has "kind: data"'

# Item 7: an OSv image's command line reaches the terminal escaped.
run_nobios 10 inspect "$tmp/osv-escape.img"
esc=$(printf '\033')
check hostile-osv-cmdline-escaped eval '[ "$RC" = 0 ] && ! has "$esc" &&
	has "\"--verbose\x1b]0;pwned\x07\x1b[2J\x1b[31mred\""'

# Item 7: initrd_addr_max = 0 is the kernel header's fault, not -m's.
echo initrd > "$tmp/initrd"
run_nobios 10 run "$tmp/initrd0.bzImage" --initrd "$tmp/initrd"
check hostile-initrd-addr-max-0 eval '[ "$RC" = 2 ] && has "initrd_addr_max is 0x0" && ! has "-m"'

run_nobios 10 run "$tmp/initrd0.bzImage" --initrd "$tmp/initrd" --boot-protocol linux16
check hostile-initrd-addr-max-0-linux16 eval '[ "$RC" = 2 ] && has "initrd_addr_max is 0x0" && ! has "-m"'

# Limits, each with its own clear error (README "Limits"): an initrd
# larger than guest RAM is refused before a byte of it is read, a kernel
# file beyond 4 GiB too (sparse files: the size without the disk space).
cp "$GUESTS/demo.bzImage" "$tmp/huge.bzImage" && truncate -s 5G "$tmp/huge.bzImage"
run_nobios 10 run "$tmp/huge.bzImage"
check limit-kernel-file eval '[ "$RC" = 2 ] && has "huge.bzImage: 5368709120 bytes, more than nobios takes as a kernel file (4 GiB)"'
rm -f "$tmp/huge.bzImage"
truncate -s 300M "$tmp/huge.initrd"
run_nobios 10 run "$GUESTS/demo.bzImage" --initrd "$tmp/huge.initrd" -m 256M
check limit-initrd-larger-than-ram eval '[ "$RC" = 2 ] && has "huge.initrd: 314572800 bytes, more than the 256 MiB of guest RAM"'
long=$(head -c 70000 /dev/zero | tr '\0' a)
run_nobios 10 run "$GUESTS/direct-pvh.elf" --cmdline "$long"
check limit-cmdline-length eval '[ "$RC" = 2 ] && has "command line is 70000 bytes, the kernel allows at most 65535"'
mods=(); for i in $(seq 33); do mods+=(--module "$tmp/initrd"); done
run_nobios 10 run "$GUESTS/direct-mb1.elf" "${mods[@]}"
check limit-module-count eval '[ "$RC" = 2 ] && has "--module: at most 32 modules"'
run_nobios 10 run "$GUESTS/demo.bzImage" -m 2T
check limit-guest-ram eval '[ "$RC" = 2 ] && has "larger than 1 TiB"'

# Item 7 and the limits: a payload of 512 MiB of zeros stops at guest RAM
# (it ran to 512 MiB of host memory whatever -m said); peak RSS stays near
# -m 64M; its size trailer says 512 MiB, hence the -m hint.  With a trailer
# that lies (4 MiB) decompression stops at guest RAM just the same.
if [ -x /usr/bin/time ]; then
	OUT=$(timeout -k 5 60 /usr/bin/time -f 'maxrss=%M' "$NOBIOS" run "$tmp/bomb.bzImage" -m 64M </dev/null 2>&1); RC=$?
	rss=$(printf '%s\n' "$OUT" | sed -n 's/^maxrss=//p')
	check hostile-bomb-bounded eval '[ "$RC" = 2 ] && has "exceeds 67108864 bytes" && has "says it decompresses to 536870912 bytes: give it more memory with -m" && [ "${rss:-999999}" -lt 200000 ]'
	OUT=$(timeout -k 5 60 /usr/bin/time -f 'maxrss=%M' "$NOBIOS" run "$tmp/bomb-liar.bzImage" -m 64M </dev/null 2>&1); RC=$?
	rss=$(printf '%s\n' "$OUT" | sed -n 's/^maxrss=//p')
	check hostile-bomb-lying-trailer eval '[ "$RC" = 2 ] && has "exceeds 67108864 bytes" && ! has "with -m" && [ "${rss:-999999}" -lt 200000 ]'
else
	t_skip hostile-bomb-bounded "/usr/bin/time is not installed (it measures the peak RSS)"
	t_skip hostile-bomb-lying-trailer "/usr/bin/time is not installed (it measures the peak RSS)"
fi

# Item 7: a block device as the kernel (it was "empty file": st_size is 0).
dev=
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	dev=$(losetup -f --show -r "$GUESTS/demo.bzImage" 2>/dev/null)
fi
if [ -n "$dev" ]; then
	run_nobios 10 inspect "$dev"
	losetup -d "$dev"
	# a loop device rounds the size up to whole sectors
	check hostile-blockdev-kernel eval '[ "$RC" = 0 ] && has "format: bzimage" && ! has "empty"'
else
	t_skip hostile-blockdev-kernel "no loop device to make (needs root, losetup and the loop driver)"
fi
