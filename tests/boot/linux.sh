#!/bin/bash
# linux.sh - the Linux x86 boot protocol: our probe bzImage entered by the
# 64-bit and 32-bit protocols (it checks its entry state and zero page and
# exits with status 1), every bad-input error with its message and status 2,
# and Debian's kernel host-decompressed: the console's `Linux version`,
# `Command line:`, `BIOS-e820:` and `RAMDISK:` lines against what nobios did.
. "$(dirname "$0")/lib.sh"
PROBE=$GUESTS/linux64_probe.bzImage
PROBE_INITRD=$GUESTS/linux64_probe.initrd
PROBE_CMDLINE=$(cat "$GUESTS/linux64_probe.cmdline" 2>/dev/null)
DEBIAN=$CORPUS/linux/vmlinuz-cloud-amd64
DEBIAN_INITRD=$CORPUS/linux/initramfs-corpus.cpio.gz

PROBE_TESTS="linux64-probe linux64-probe-explicit linux32-probe linux64-probe-detects-bad-cmdline"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --- the probe: status 1 means every check inside the guest held; it
# checks the exact command line, so nobios's defaults are off here
probe_case() { # NAME ARGS...
	local name=$1; shift
	run_nobios 60 run "$PROBE" --initrd "$PROBE_INITRD" --cmdline "$PROBE_CMDLINE" -m 256M \
		--timeout 50 --no-default-cmdline "$@"
	check "$name" eval '[ "$RC" = 1 ] && has "PROBE-PASS" && has " 0 failed"'
}
if need_kvm $PROBE_TESTS; then
probe_case linux64-probe                             # detected; no payload: "linux" path
probe_case linux64-probe-explicit --boot-protocol linux
run_nobios 60 run "$PROBE" --initrd "$PROBE_INITRD" --cmdline "$PROBE_CMDLINE" -m 256M \
	--timeout 50 --boot-protocol linux32 --no-default-cmdline
check linux32-probe eval '[ "$RC" = 1 ] && has "entered by the 32-bit boot protocol" && has "PROBE-PASS"'
# the probe can fail: a different command line must be caught inside the guest
run_nobios 60 run "$PROBE" --initrd "$PROBE_INITRD" --cmdline "$PROBE_CMDLINE extra" -m 256M \
	--timeout 50 --no-default-cmdline
check linux64-probe-detects-bad-cmdline eval '[ "$RC" -ge 129 ] && has "PROBE-FAIL" && has "str_eq"'
fi

# --- bad input: one line naming the file and the problem, status 2
bad_case() { # NAME EXPECTED-TEXT ARGS...
	local name=$1 want=$2; shift 2
	run_nobios 60 run "$@"
	if [ "$RC" = 2 ] && has "$want" && [ "$(printf '%s\n' "$OUT" | grep -c .)" = 1 ]; then
		t_pass "$name"
	else
		t_fail "$name" "rc=$RC (want 2, one line with '$want'), output: $(printf '%s' "$OUT" | head -3 | tr '\n' '|')"
	fi
}
bad_case linux-missing-file "$tmp/vmlinuz: cannot open" "$tmp/vmlinuz"
mkdir "$tmp/dir"
bad_case linux-directory "$tmp/dir: is a directory" "$tmp/dir" --boot-protocol linux
: > "$tmp/empty"
bad_case linux-empty-file "$tmp/empty: empty file" "$tmp/empty" --boot-protocol linux
head -c 8192 /dev/zero | tr '\0' 'k' > "$tmp/text"
bad_case linux-not-bzimage "$tmp/text: not a bootable image" "$tmp/text"
bad_case linux-not-bzimage-explicit "$tmp/text: not a bzImage: no \"HdrS\" signature" \
	"$tmp/text" --boot-protocol linux
head -c $((0x230)) "$PROBE" > "$tmp/trunc"
bad_case linux-truncated-header "$tmp/trunc: truncated setup header" "$tmp/trunc"
cp "$PROBE" "$tmp/sects"
printf '\310' | dd of="$tmp/sects" bs=1 seek=$((0x1F1)) conv=notrunc status=none # setup_sects 200
bad_case linux-setup-sects-beyond-file "$tmp/sects: setup_sects 200" "$tmp/sects"
cp "$PROBE" "$tmp/nok64"
printf '\000' | dd of="$tmp/nok64" bs=1 seek=$((0x236)) conv=notrunc status=none # xloadflags 0
bad_case linux-no-64bit-entry "$tmp/nok64: not a 64-bit kernel: XLF_KERNEL_64" "$tmp/nok64" \
	--boot-protocol linux
truncate -s 32M "$tmp/big.initrd"
bad_case linux-initrd-too-large "$tmp/big.initrd: 33554432 bytes, more than the 16 MiB of guest RAM" "$PROBE" \
	--initrd "$tmp/big.initrd" -m 16M
bad_case linux-initrd-missing "$tmp/none.initrd: cannot open" "$PROBE" --initrd "$tmp/none.initrd"
long=$(head -c 3000 /dev/zero | tr '\0' 'x')
bad_case linux-cmdline-too-long "command line is 3000 bytes, the kernel allows at most 2047" \
	"$PROBE" --cmdline "$long"

if need_corpus linux-payload-outside-file linux-bad-payload linux-kernel-too-large; then
	# payload_length beyond the file: truncate a copy of Debian's bzImage
	head -c 8000000 "$DEBIAN" > "$tmp/short.bzImage"
	bad_case linux-payload-outside-file "$tmp/short.bzImage: payload (offset" "$tmp/short.bzImage"
	# corrupt the LZ4 payload in the middle (0xFF runs make impossible lengths)
	cp "$DEBIAN" "$tmp/corrupt.bzImage"
	head -c 65536 /dev/zero | tr '\0' '\377' |
		dd of="$tmp/corrupt.bzImage" bs=1 seek=7000000 conv=notrunc status=none
	bad_case linux-bad-payload "$tmp/corrupt.bzImage: payload: corrupt lz4" "$tmp/corrupt.bzImage"
	# vmlinux is loaded at 16 MiB and needs ~40 MiB: not in 32 MiB of RAM
	bad_case linux-kernel-too-large "give it more memory with -m" "$DEBIAN" -m 32M
fi

# --- Debian's kernel, host-decompressed, to its early console lines
if need_kvm linux-debian-console && need_corpus linux-debian-console; then
	CMDLINE='earlyprintk=serial,ttyS0 console=ttyS0 noxsave panic=-1 nobios.test=linux'
	log=$tmp/debian.out
	start=$(date +%s%N)
	timeout -k 5 250 "$NOBIOS" run "$DEBIAN" --initrd "$DEBIAN_INITRD" --cmdline "$CMDLINE" \
		-m 256M -v --timeout 240 </dev/null >"$log" 2>&1 &
	pid=$!
	t_banner=
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$t_banner" ] && grep -q "Linux version" "$log"; then
			t_banner=$(( ($(date +%s%N) - start) / 1000000 ))
		fi
		grep -q "RAMDISK: \[mem" "$log" && break
		sleep 0.5
	done
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	OUT=$(cat "$log"); RC=done
	fail=
	has "Linux version 6.1" || fail="$fail no-banner"
	has "loaded as bzimage" && has "host-decompressed from lz4" || fail="$fail not-host-decompressed"
	# console= and panic= are the user's; nobios adds only the reboot= it lacks
	[ "$(sed -n 's/.*Command line: //p' "$log" | tr -d '\r')" = "reboot=k,panic_warm $CMDLINE" ] ||
		fail="$fail cmdline"
	# nobios's map for 256 MiB (src/mem/e820.c)
	want_e820='0x0000000000000000-0x000000000009fbff usable
0x000000000009fc00-0x000000000009ffff reserved
0x00000000000e0000-0x00000000000fffff reserved
0x0000000000100000-0x000000000fffffff usable'
	got_e820=$(sed -n 's/.*BIOS-e820: \[mem \([^]]*\)\] \(.*\)/\1 \2/p' "$log" | tr -d '\r')
	[ "$got_e820" = "$want_e820" ] || fail="$fail e820"
	# RAMDISK: [mem start-end], end = PAGE_ALIGN(start + size) - 1
	read -r ia isz < <(sed -n 's/^nobios: initrd at \(0x[0-9a-f]*\) size \(0x[0-9a-f]*\).*/\1 \2/p' "$log")
	if [ -n "$ia" ]; then
		want_rd=$(printf '0x%08x-0x%08x' $((ia)) $(( ((ia + isz + 4095) & ~4095) - 1 )))
		got_rd=$(sed -n 's/.*RAMDISK: \[mem \([^]]*\)\].*/\1/p' "$log" | tr -d '\r')
		[ "$got_rd" = "$want_rd" ] || fail="$fail ramdisk($got_rd!=$want_rd)"
	else
		fail="$fail no-initrd-line"
	fi
	ms=$(sed -n 's/.*decompressed to [0-9]* bytes in \([0-9.]*\) ms.*/\1/p' "$log")
	echo "   debian: lz4 payload host-decompressed in ${ms:-?} ms; 'Linux version' after ${t_banner:-never} ms (polled every 0.5 s)"
	if [ -z "$fail" ]; then
		t_pass linux-debian-console
	else
		t_fail linux-debian-console "$fail; output tail: $(tail -5 "$log" | tr '\n' '|')"
	fi
fi
