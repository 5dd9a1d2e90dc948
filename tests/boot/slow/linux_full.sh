#!/bin/bash
# linux_full.sh - Debian's kernel all the way to the corpus initramfs's
# CORPUS-LINUX-OK and `reboot -f`, nobios exiting 0 by itself.  Seconds on a
# VMX/SVM host; tens of minutes where ring-0 code is emulated (kvm_pvm), hence
# `make check-slow`, not CI.  LIMIT (seconds) overrides the time limit.
. "$(dirname "$0")/../lib.sh"
need_kvm linux-full-boot || exit 0
need_corpus linux-full-boot || exit 0
LIMIT=${LIMIT:-5400}
# noxsave, clearcpuid=smap,popcnt: this host's KVM emulator refuses xrstor,
# clac and popcnt unless nobios completes them (src/emul/).
CMDLINE=${CMDLINE:-"console=ttyS0 earlyprintk=serial,ttyS0 noxsave clearcpuid=smap,popcnt panic=-1"}
start=$(date +%s)
run_nobios "$LIMIT" run "$CORPUS/linux/vmlinuz-cloud-amd64" \
	--initrd "$CORPUS/linux/initramfs-corpus.cpio.gz" --cmdline "$CMDLINE" -m 512M -v
end=$(date +%s)
printf '%s\n' "$OUT" > "${LOG:-/tmp/nobios-linux-full.log}"
echo "linux-full-boot: $((end - start)) s, exit status $RC (log: ${LOG:-/tmp/nobios-linux-full.log})"
check linux-full-boot eval '[ "$RC" = 0 ] && has "CORPUS: init reached" && has "CORPUS-LINUX-OK"'
