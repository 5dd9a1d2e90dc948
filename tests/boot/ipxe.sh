#!/bin/bash
# ipxe.sh - a bzImage that is not Linux (issue 13 item 2): iPXE's .lkrn from
# Debian's ipxe package (boot protocol 2.07, no XLF_KERNEL_64, no payload)
# given as KERNEL is entered through its 16-bit setup code with the
# pseudo-BIOS, as QEMU's -kernel does; with no network device it says so and
# leaves through INT 18h.  It prints through INT 10h and to the UART: every
# line must reach the console once.
. "$(dirname "$0")/lib.sh"

I=${IPXE_IMAGE:-$BUILD/ipxe}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ALL="ipxe-inspect ipxe-default-entry ipxe-no-network ipxe-printed-once"
# Fetched on this machine (the SVM test host has no network): make ipxe-image
if [ ! -f "$I/ipxe.lkrn" ] && [ "${NOBIOS_TEST_HOST:-}" != svm ]; then
	scripts/ipxe-image.sh "$I" >"$TMP/fetch.log" 2>&1 || echo "   ipxe-image.sh failed: $(tail -1 "$TMP/fetch.log")"
fi
if [ ! -f "$I/ipxe.lkrn" ]; then
	for n in $ALL; do t_skip "$n" "no $I/ipxe.lkrn (make ipxe-image: apt-get download ipxe)"; done
	exit 0
fi

OUT=$("$NOBIOS" inspect "$I/ipxe.lkrn" 2>&1); RC=$?
check ipxe-inspect eval '[ "$RC" = 0 ] && has "no XLF_KERNEL_64 and no payload: not Linux, entered through its 16-bit setup (linux16)"'

if need_kvm ipxe-default-entry ipxe-no-network ipxe-printed-once; then
	timeout -k 5 120 "$NOBIOS" -v "$I/ipxe.lkrn" </dev/null >"$TMP/out" 2>"$TMP/log"; RC=$?
	OUT=$(cat "$TMP/out")
	LOG=$(cat "$TMP/log")
	if printf '%s' "$LOG" | grep -qF "not Linux; entering its 16-bit setup code" &&
		printf '%s' "$LOG" | grep -qF "loaded as linux16"; then
		t_pass ipxe-default-entry
	else
		t_fail ipxe-default-entry "rc=$RC; trace: $(printf '%s' "$LOG" | grep -m3 'nobios: .*ipxe' | tr '\n' '|')"
	fi
	check ipxe-no-network eval '[ "$RC" = 4 ] && has "iPXE" && has "No more network devices" && printf "%s" "$LOG" | grep -qF "INT 18h: no bootable device"'
	# once: the line appears one time, and no character of the banner doubled
	n=$(printf '%s' "$OUT" | grep -c "No more network devices")
	check ipxe-printed-once eval '[ "$n" = 1 ] && ! has "iiPPXXEE" && has "iPXE"'
fi
