#!/bin/bash
# scripts/grub-images.sh OUTDIR [GUESTS CORPUS] - GRUB 2 i386-pc test disks
# for tests/boot/grub.sh, built from Debian 12's grub-pc-bin and grub-common
# (apt-get download into OUTDIR/debs, unpacked there; nothing installed, no
# root, no loop devices).
#
# Each disk: GRUB's boot.img in the MBR (its first 440 bytes, the partition
# table kept), core.img from sector 1 (grub-mkimage; boot.img's default
# kernel sector 1 and diskboot.img's default blocklist start 2 need no
# patching, as grub-bios-setup would do for other places), one active FAT16
# partition at LBA 2048 (sfdisk on a plain file, mtools) holding /boot/...
# The GRUB script is embedded in core.img with -c: it runs in GRUB's rescue
# parser, before any file is read, so a disk needs no grub.cfg.
#
#   grub-linux16.img   linux16/initrd16: the bzImage's 16-bit setup
#   grub-linux.img     linux/initrd: GRUB's 32-bit boot protocol path
#   grub-bench.img     grub-linux.img's boot with GRUB's terminal on COM1, so
#                      that QEMU + SeaBIOS shows GRUB's lines on the serial
#                      console too (bench/bios.sh)
#   grub-mb2.img       multiboot2 GUESTS/grub-mb2.bin
#   grub-chain.img     chainloader GUESTS/grub-chain.bin (a boot sector)
#   grub-lnxboot.lkrn  lnxboot.img + grub-chain.img's core.img (protocol 2.03)
# The Linux disks need CORPUS (vmlinuz + initramfs); without it only the
# others are built.  Rebuilt only when this script or an input changed.
set -euo pipefail
OUT=${1:?usage: scripts/grub-images.sh OUTDIR [GUESTS CORPUS]}
GUESTS=${2:-build/guests}
CORPUS=${3:-build/corpus}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/debs.sh"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

debs_fetch "$OUT/debs" grub-pc-bin grub-common
if [ ! -f "$OUT/root/VERSIONS" ] || [ "$OUT/debs" -nt "$OUT/root/VERSIONS" ]; then
	rm -rf "$OUT/root"
	debs_extract "$OUT/debs" "$OUT/root"
fi
MKIMAGE=$OUT/root/usr/bin/grub-mkimage
LIB=$OUT/root/usr/lib/grub/i386-pc
[ -x "$MKIMAGE" ] && [ -f "$LIB/boot.img" ] || { echo "grub-images: no grub-mkimage or boot.img in $OUT/root" >&2; exit 1; }

KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
INITRD=$CORPUS/linux/initramfs-corpus.cpio.gz
have_linux=0
[ -f "$KERNEL" ] && [ -f "$INITRD" ] && have_linux=1
inputs=("$0" "$HERE/debs.sh" "$OUT/root/VERSIONS" "$GUESTS/grub-mb2.bin" "$GUESTS/grub-chain.bin")
[ $have_linux = 1 ] && inputs+=("$KERNEL" "$INITRD")
stamp=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
	exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The FAT16 partition: 40 MiB, hidden sectors = its start LBA.
PART_START=2048
PART=$WORK/part.img
mkfs.fat -h $PART_START -i 6e0b1005 -n NOBIOSGRUB -C "$PART" $((40 * 1024)) >/dev/null
mmd -i "$PART" ::/boot ::/boot/grub
mcopy -i "$PART" "$GUESTS/grub-mb2.bin" ::/boot/mb2.bin
mcopy -i "$PART" "$GUESTS/grub-chain.bin" ::/boot/chain.bin
if [ $have_linux = 1 ]; then
	mcopy -i "$PART" "$KERNEL" ::/boot/vmlinuz
	mcopy -i "$PART" "$INITRD" ::/boot/initrd.gz
fi
PARTSECS=$(($(stat -c %s "$PART") / 512))

# The modules core.img carries: disk, partition map, file system, the
# loaders and the commands the embedded scripts use.
MODS="biosdisk part_msdos fat echo linux linux16 multiboot2 chain boot"

# mkdisk NAME [MODULES...]: core.img with WORK/NAME.cfg embedded (and the
# modules beyond MODS), then the disk OUT/NAME.img
mkdisk() {
	local name=$1 disk=$WORK/$1.img
	shift
	"$MKIMAGE" -d "$LIB" -O i386-pc -c "$WORK/$name.cfg" -p '(hd0,msdos1)/boot/grub' \
		-o "$WORK/$name.core" $MODS "$@"
	local coresecs=$((($(stat -c %s "$WORK/$name.core") + 511) / 512))
	[ $((1 + coresecs)) -le $PART_START ] || { echo "grub-images: core.img too large" >&2; exit 1; }
	truncate -s $(((PART_START + PARTSECS) * 512)) "$disk"
	printf 'label: dos\nlabel-id: 0x6e0b1005\nunit: sectors\n\n%d,%d,6,*\n' $PART_START $PARTSECS |
		sfdisk -q "$disk"
	dd if="$LIB/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
	dd if="$WORK/$name.core" of="$disk" bs=512 seek=1 conv=notrunc status=none
	dd if="$PART" of="$disk" bs=512 seek=$PART_START conv=notrunc status=none
	mv "$disk" "$OUT/$name.img"
}

# The marker each script echoes first: GRUB has read its embedded config.
cat > "$WORK/grub-mb2.cfg" <<'CFG'
echo NOBIOS-GRUB-CFG multiboot2
multiboot2 /boot/mb2.bin mb2-probe-cmdline
boot
CFG
cat > "$WORK/grub-chain.cfg" <<'CFG'
echo NOBIOS-GRUB-CFG chainloader
chainloader /boot/chain.bin
boot
CFG
mkdisk grub-mb2
mkdisk grub-chain
# GRUB in Linux's clothes: lnxboot.img (a setup header of boot protocol
# 2.03, no 64-bit entry, no payload) in front of core.img, a kernel image
# boot loaders and QEMU start through its 16-bit setup; its core finds
# (hd0,msdos1) on a --disk given beside it.
cat "$LIB/lnxboot.img" "$WORK/grub-chain.core" > "$OUT/grub-lnxboot.lkrn"
if [ $have_linux = 1 ]; then
	cat > "$WORK/grub-linux16.cfg" <<'CFG'
echo NOBIOS-GRUB-CFG linux16
linux16 /boot/vmlinuz console=ttyS0 panic=-1 reboot=k
initrd16 /boot/initrd.gz
boot
CFG
	cat > "$WORK/grub-linux.cfg" <<'CFG'
echo NOBIOS-GRUB-CFG linux
linux /boot/vmlinuz console=ttyS0 earlyprintk=serial,ttyS0 panic=-1 reboot=k
initrd /boot/initrd.gz
boot
CFG
	cat > "$WORK/grub-bench.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_output serial
echo NOBIOS-GRUB-CFG bench
linux /boot/vmlinuz console=ttyS0 panic=-1 reboot=k
initrd /boot/initrd.gz
boot
CFG
	mkdisk grub-linux16
	mkdisk grub-linux
	mkdisk grub-bench serial terminal
else
	rm -f "$OUT/grub-linux16.img" "$OUT/grub-linux.img" "$OUT/grub-bench.img"
fi
echo "$stamp" > "$OUT/stamp"
