#!/bin/bash
# direct.sh - the direct-boot formats (issue 3): one probe guest per protocol
# (Multiboot ELF and a.out kludge, Multiboot2, PVH, ELF64 at start64 linked
# at its load address and 1 GiB above it as OSv is (issue 11), an OSv disk
# image), `nobios inspect` on every probe and corpus image, tboot
# through Multiboot 1 and 2 (its e820 map against ours), Debian's vmlinux
# through PVH to its first console lines, and malformed input (status 2).
. "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d)
BGPID=
cleanup() { [ -n "$BGPID" ] && kill "$BGPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# What the probes expect (tests/guests/direct/direct_probe.c).
CMD_MODS="nobios-probe mods=2 a=1 b=two"
CMD_NOMODS="nobios-probe mods=0"
mkmod() { # mkmod N SIZE FILE: "nobios-module-N", '.' filler, '\n' last
	{ printf 'nobios-module-%s' "$1"; head -c $(($2 - 16)) /dev/zero | tr '\0' '.'; printf '\n'; } > "$3"
}
mkmod 0 5000 "$TMP/mod0"
mkmod 1 777 "$TMP/mod1"
MODARGS=(--initrd "$TMP/mod0" --module "$TMP/mod1,mod1 arg=1")

probe_ok() { [ "$RC" = 1 ] && has "PROBE-PASS"; }
status2() { [ "$RC" = 2 ] && has "$1"; }

# run_until SECS PATTERN ARGS...: run nobios in the background and stop it
# as soon as PATTERN shows in its output (or after SECS); OUT gets the
# output, RC nobios's status if it ended by itself, else "stopped".
run_until() {
	local secs=$1 pat=$2; shift 2
	: > "$TMP/bg.out"
	"$NOBIOS" "$@" </dev/null >>"$TMP/bg.out" 2>&1 &
	BGPID=$!
	local t=0
	while kill -0 "$BGPID" 2>/dev/null; do
		if grep -qF -- "$pat" "$TMP/bg.out"; then
			kill "$BGPID" 2>/dev/null
			break
		fi
		if [ "$t" -ge $((secs * 4)) ]; then
			kill "$BGPID" 2>/dev/null
			break
		fi
		sleep 0.25
		t=$((t + 1))
	done
	wait "$BGPID" 2>/dev/null; RC=$?
	BGPID=
	grep -qF -- "$pat" "$TMP/bg.out" && RC=stopped
	OUT=$(cat "$TMP/bg.out")
}

# ---- probes: entry state and every field of the boot information
if need_kvm direct-mb1 direct-mb1-aout direct-mb2 direct-pvh direct-pvh-nomods direct-elf64 \
	direct-elf64-symbol direct-elf64-high direct-elf64-high-nonx direct-osv-disk \
	direct-forced-mb2-on-mb1; then
	run_nobios 30 -m 256M --kernel "$GUESTS/direct-mb1.elf" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-mb1 eval 'probe_ok && has "direct-mb1: "'
	run_nobios 30 -m 256M --kernel "$GUESTS/direct-mb1-aout.bin" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-mb1-aout eval 'probe_ok && has "direct-mb1-aout: "'
	run_nobios 30 -m 256M --kernel "$GUESTS/direct-mb2.elf" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-mb2 eval 'probe_ok && has "direct-mb2: "'
	run_nobios 30 -m 256M --kernel "$GUESTS/direct-pvh.elf" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-pvh eval 'probe_ok && has "direct-pvh: "'
	run_nobios 30 -m 256M "$GUESTS/direct-pvh.elf" --cmdline "$CMD_NOMODS"
	check direct-pvh-nomods probe_ok
	run_nobios 30 -m 256M --kernel "$GUESTS/direct-elf64.elf" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-elf64 eval 'probe_ok && has "direct-elf64: "'
	# the symbol named explicitly (the CLI then forces the elf64 format)
	run_nobios 30 -m 256M --entry-symbol start64 "$GUESTS/direct-elf64.elf" --cmdline "$CMD_NOMODS"
	check direct-elf64-symbol probe_ok
	# Linked 1 GiB above its load address (OSv's p_vaddr = p_paddr + 1 GiB):
	# start64 reads .bss and .data at their virtual addresses and runs SSE
	# on them at once; the probe walks the page tables it was given.
	run_nobios 30 -m 256M -v --kernel "$GUESTS/direct-elf64-high.elf" --cmdline "$CMD_MODS" "${MODARGS[@]}"
	check direct-elf64-high eval 'probe_ok && has "direct-elf64-high: EFER 0xd00" &&
		has "PT_LOAD 2: virtual [0x40200000, 0x40400000) -> physical 0x200000: 1 x 2 MiB + 0 x 4 KiB"'
	# a CPUID without NX: EFER.NXE left clear (KVM_SET_SREGS would take it
	# and the guest would run with NXE its CPUID says does not exist)
	run_nobios 30 -m 256M -v --cpuid-mask nx "$GUESTS/direct-elf64-high.elf" --cmdline "$CMD_NOMODS"
	check direct-elf64-high-nonx eval 'probe_ok && has "direct-elf64-high: EFER 0x500" &&
		has "has no NX: EFER.NXE left clear"'
	# a format forced on a file without its header: refused, not guessed
	run_nobios 10 -m 256M --boot-protocol multiboot2 "$GUESTS/direct-mb1.elf"
	check direct-forced-mb2-on-mb1 eval 'status2 "no Multiboot2 header"'

	# An OSv-layout disk from the high elf64 probe (linked as OSv's
	# loader.elf is): MBR (55 AA), the command line at sector 1, loader.elf
	# at sector 128; booted with --disk.
	img=$TMP/osv.img
	head -c $((128 * 512)) /dev/zero > "$img"
	printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
	printf '%s\0' "$CMD_NOMODS" | dd of="$img" bs=512 seek=1 conv=notrunc status=none
	cat "$GUESTS/direct-elf64-high.elf" >> "$img"
	run_nobios 30 -m 256M -v --disk "$img"
	check direct-osv-disk eval 'probe_ok && has "cmdline: $CMD_NOMODS" && has "loaded as osv"'
fi

# ---- nobios inspect: probes and corpus images (no KVM needed)
inspect_ok() { # inspect_ok NAME FILE FORMAT WORDS...
	local name=$1 file=$2 fmt=$3; shift 3
	OUT=$("$NOBIOS" inspect "$file" 2>&1); RC=$?
	local ok=y
	[ "$RC" = 0 ] || ok=
	printf '%s' "$OUT" | grep -q "^format: $fmt " || ok=
	for w in "$@"; do printf '%s' "$OUT" | grep -qF -- "$w" || ok=; done
	check "$name" test -n "$ok"
}
inspect_ok inspect-direct-mb1 "$GUESTS/direct-mb1.elf" multiboot "flags 0x00000003" "load [0x00100000"
inspect_ok inspect-direct-mb1-aout "$GUESTS/direct-mb1-aout.bin" multiboot "a.out kludge" "entry: 0x100020"
inspect_ok inspect-direct-mb2 "$GUESTS/direct-mb2.elf" multiboot2 "information request: 6 (mmap)" "framebuffer tag (optional"
inspect_ok inspect-direct-pvh "$GUESTS/direct-pvh.elf" pvh "PHYS32_ENTRY" "32-bit protected mode"
inspect_ok inspect-direct-elf64 "$GUESTS/direct-elf64.elf" elf64 "symbol start64" "64-bit long mode" \
	"PT_LOAD 0: virtual = physical [0x100000," "page tables: 0 of 96 pages" "RBP=0x0 "
inspect_ok inspect-direct-elf64-high "$GUESTS/direct-elf64-high.elf" elf64 "symbol start64 = 0x401000" \
	"PT_LOAD 0: virtual [0x40100000, 0x4010" "-> physical 0x100000: 0 x 2 MiB + " \
	"PT_LOAD 1: virtual [0x40104000, 0x4010" "-> physical 0x104000: 0 x 2 MiB + " \
	"PT_LOAD 2: virtual [0x40200000, 0x40400000) -> physical 0x200000: 1 x 2 MiB + 0 x 4 KiB pages" \
	"page tables: 1 of 96 pages" "RBP=0x100000 (ELF header)"
if need_corpus inspect-corpus-vmlinuz inspect-corpus-vmlinux inspect-corpus-tboot \
	inspect-corpus-tboot-forced-mb2 inspect-corpus-syslinux; then
	inspect_ok inspect-corpus-vmlinuz "$CORPUS/linux/vmlinuz-cloud-amd64" bzimage "bzImage"
	# Properties, not one build's numbers (the corpus is whatever Debian
	# serves that day): the PVH entry lies in an executable load range, and
	# every range is above 1 MiB and below the 32-bit MMIO hole.
	inspect_ok inspect-corpus-vmlinux "$CORPUS/linux/vmlinux-cloud-amd64.elf" pvh \
		"XEN_ELFNOTE_PHYS32_ENTRY = 0x" 'GUEST_OS           "linux"'
	pvh_ranges_ok() {
		local entry lo hi perm n=0 inx=
		entry=$(printf '%s\n' "$OUT" | sed -n 's/^PVH note: .* = \(0x[0-9a-f]*\)$/\1/p')
		[ -n "$entry" ] || return 1
		while read -r lo hi perm; do
			n=$((n + 1))
			[ $((lo)) -ge $((0x100000)) ] && [ $((hi)) -le $((0xC0000000)) ] &&
				[ $((hi)) -gt $((lo)) ] || return 1
			case $perm in *x) [ $((entry)) -ge $((lo)) ] && [ $((entry)) -lt $((hi)) ] && inx=y ;; esac
		done < <(printf '%s\n' "$OUT" | sed -n 's/^  load \[\(0x[0-9a-f]*\), \(0x[0-9a-f]*\)) \(...\).*/\1 \2 \3/p')
		[ "$n" -gt 0 ] && [ -n "$inx" ]
	}
	check inspect-corpus-vmlinux-ranges pvh_ranges_ok
	inspect_ok inspect-corpus-tboot "$CORPUS/tboot.elf" multiboot \
		"multiboot2 yes: Multiboot2 header at file offset 0x1010" "(not reached)" "e_entry 0x804000"
	OUT=$("$NOBIOS" inspect --boot-protocol multiboot2 "$CORPUS/tboot.elf" 2>&1); RC=$?
	check inspect-corpus-tboot-forced-mb2 eval '[ "$RC" = 0 ] && has "format: multiboot2 (forced by --boot-protocol" &&
		has "Multiboot2 header at file offset 0x1010" && has "framebuffer tag (optional: ignored)"'
	inspect_ok inspect-corpus-syslinux "$CORPUS/syslinux-linux-hdd.img" bios \
		"osv        no : MBR disk, but no ELF (loader.elf) at sector 128"
fi

# ---- tboot: Multiboot 1, and Multiboot 2 forced; it prints the map it got
tboot_map() { printf '%s\n' "$OUT" | tr -d '\r' | sed -n 's/^TBOOT: \t\([0-9a-f]*\) - \([0-9a-f]*\)  (\([0-9]*\))$/\1 \2 \3/p'; }
our_map() { printf '%s\n' "$OUT" | sed -n 's/^nobios:   \([0-9a-f]*\) - \([0-9a-f]*\)  (\([0-9]*\)) .*/\1 \2 \3/p'; }
if need_kvm direct-tboot-mb1 direct-tboot-mb2 && need_corpus direct-tboot-mb1 direct-tboot-mb2; then
	run_until 90 "Failed to get EFI memory map" -v -m 256M "$CORPUS/tboot.elf"
	theirs=$(tboot_map); ours=$(our_map)
	check direct-tboot-mb1 eval '[ "$RC" = stopped ] && has "loaded as multiboot" && has "TBOOT: original e820 map:" && [ -n "$ours" ] && [ "$theirs" = "$ours" ]'
	run_until 90 "no MB2 modules" -v -m 256M --boot-protocol multiboot2 "$CORPUS/tboot.elf"
	theirs=$(tboot_map); ours=$(our_map)
	check direct-tboot-mb2 eval '[ "$RC" = stopped ] && has "loaded as multiboot2" && [ -n "$ours" ] && [ "$theirs" = "$ours" ]'
fi

# ---- Debian's vmlinux through PVH: its first console lines, our command
# line, the memory map it took from start_info, the initrd where we put it
if need_kvm direct-linux-pvh && need_corpus direct-linux-pvh; then
	INITRD=$CORPUS/linux/initramfs-corpus.cpio.gz
	run_until 240 "RAMDISK:" -m 256M "$CORPUS/linux/vmlinux-cloud-amd64.elf" --initrd "$INITRD" \
		--cmdline "earlyprintk=serial,ttyS0 console=ttyS0 noxsave"
	size=$(stat -c %s "$INITRD")
	# module 0 at the top of the 256 MiB, page aligned
	start=$(printf '0x%08x' $(( (1 << 28) - ((size + 4095) / 4096 * 4096) )))
	check direct-linux-pvh eval '[ "$RC" = stopped ] && has "Linux version 6.1" &&
		has "Command line: panic=-1 reboot=k,panic_warm earlyprintk=serial,ttyS0 console=ttyS0 noxsave" &&
		has "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable" &&
		has "BIOS-e820: [mem 0x000000000009fc00-" &&
		has "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable" &&
		has "RAMDISK: [mem $start-0x0fffffff]"'
fi

# ---- malformed input: one clear line, status 2
head -c 200 "$GUESTS/direct-pvh.elf" > "$TMP/trunc.elf"
run_nobios 10 --boot-protocol pvh "$TMP/trunc.elf"
check direct-bad-truncated-elf eval 'status2 "trunc.elf: program headers" || status2 "trunc.elf: PT_"'
run_nobios 10 run "$TMP/trunc.elf"
check direct-bad-truncated-detect eval 'status2 "not a bootable image"'

cp "$GUESTS/direct-mb1.elf" "$TMP/badsum.elf"
printf '\x00' | dd of="$TMP/badsum.elf" bs=1 seek=$((0x1008)) conv=notrunc status=none
run_nobios 10 --boot-protocol multiboot "$TMP/badsum.elf"
check direct-bad-mb1-checksum eval 'status2 "checksum is wrong"'

# the multiboot2 probe's first tag (at header + 16) given an absurd size
cp "$GUESTS/direct-mb2.elf" "$TMP/absurd.elf"
magic=$(od -A n -t x4 -j $((0x1000)) -N 4 "$TMP/absurd.elf" | tr -d ' ')
printf '\xf0\xff\xff\x7f' | dd of="$TMP/absurd.elf" bs=1 seek=$((0x1014)) conv=notrunc status=none
run_nobios 10 run "$TMP/absurd.elf"
check direct-bad-mb2-tag-size eval '[ "$magic" = e85250d6 ] && status2 "absurd size"'

if need_corpus direct-bad-out-of-ram; then
	run_nobios 30 -m 16M "$CORPUS/linux/vmlinux-cloud-amd64.elf"
	check direct-bad-out-of-ram eval 'status2 "does not fit in guest RAM"'
fi
run_nobios 10 run "$GUESTS/direct-mb1.elf" --module "$TMP/nonexistent,x"
check direct-bad-missing-module eval 'status2 "nonexistent"'
run_nobios 10 --entry-symbol no_such_symbol "$GUESTS/direct-elf64.elf"
check direct-bad-entry-symbol eval "status2 \"no symbol 'no_such_symbol'\""
head -c $((130 * 512)) /dev/zero > "$TMP/plain.img"
printf '\x55\xaa' | dd of="$TMP/plain.img" bs=1 seek=510 conv=notrunc status=none
run_nobios 10 --boot-protocol osv --disk "$TMP/plain.img"
check direct-bad-osv-plain-disk eval 'status2 "not an OSv disk image: MBR disk, but no ELF (loader.elf) at sector 128"'
run_nobios 10 --boot-protocol elf64 "$GUESTS/direct-pvh.elf"
check direct-bad-elf64-on-elf32 eval 'status2 "ELF64"'
# the high probe's second PT_LOAD (program header at 64 + 56) moved onto
# the first one's virtual range, then out of the canonical lower half
setvaddr() { # setvaddr FILE HEX16: p_vaddr of program header 1, little-endian
	printf "$(printf '%s' "$2" | sed 's/\(..\)/\\x\1/g')" |
		dd of="$1" bs=1 seek=$((64 + 56 + 16)) conv=notrunc status=none
}
cp "$GUESTS/direct-elf64-high.elf" "$TMP/vover.elf"
setvaddr "$TMP/vover.elf" 0020104000000000 # 0x40102000: inside PT_LOAD 0
run_nobios 10 run "$TMP/vover.elf"
check direct-bad-elf64-virtual-overlap eval 'status2 "overlap in virtual memory"'
cp "$GUESTS/direct-elf64-high.elf" "$TMP/noncanon.elf"
setvaddr "$TMP/noncanon.elf" 0040100000800000 # 0x0000800000104000
run_nobios 10 run "$TMP/noncanon.elf"
check direct-bad-elf64-noncanonical eval 'status2 "is not canonical"'
OUT=$("$NOBIOS" inspect "$TMP/noncanon.elf" 2>&1); RC=$?
check inspect-bad-elf64-noncanonical eval '[ "$RC" = 0 ] && has "entry: cannot boot: " && has "is not canonical"'
