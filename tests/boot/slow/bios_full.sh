#!/bin/bash
# bios_full.sh - full Linux boots through the pseudo-BIOS, to the corpus
# initramfs's CORPUS-LINUX-OK: (1) the syslinux disk image (a copy whose
# APPEND line adds earlyprintk, noxsave and panic=-1, written with mtools),
# (2) Debian's bzImage through --boot-protocol linux16.  Tens of minutes where
# ring-0 code is emulated (kvm_pvm); LIMIT (seconds) overrides the limit.
. "$(dirname "$0")/../lib.sh"
need_kvm bios-syslinux-full bios-linux16-full || exit 0
need_corpus bios-syslinux-full bios-linux16-full || exit 0
LIMIT=${LIMIT:-5400}
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 noxsave panic=-1"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if command -v mcopy >/dev/null; then
	cp "$CORPUS/syslinux-linux-hdd.img" "$TMP/sys.img"
	# the FAT16 partition starts at LBA 2048
	mtype -i "$TMP/sys.img@@1M" ::/syslinux.cfg |
		sed "s|^  APPEND .*|  APPEND $CMDLINE|" > "$TMP/syslinux.cfg"
	mcopy -o -i "$TMP/sys.img@@1M" "$TMP/syslinux.cfg" ::/syslinux.cfg
	start=$(date +%s)
	run_nobios "$LIMIT" --disk "$TMP/sys.img" -m 512M
	echo "bios-syslinux-full: $(($(date +%s) - start)) s, exit status $RC"
	check bios-syslinux-full eval 'has "CORPUS-SYSLINUX-CFG" && has "Loading /vmlinuz... ok" && has "CORPUS-LINUX-OK"'
else
	t_skip bios-syslinux-full "mtools (mcopy) not installed"
fi

start=$(date +%s)
run_nobios "$LIMIT" --boot-protocol linux16 "$CORPUS/linux/vmlinuz-cloud-amd64" \
	--initrd "$CORPUS/linux/initramfs-corpus.cpio.gz" --cmdline "$CMDLINE" -m 512M
echo "bios-linux16-full: $(($(date +%s) - start)) s, exit status $RC"
check bios-linux16-full has "CORPUS-LINUX-OK"
