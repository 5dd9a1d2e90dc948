#!/bin/bash
# virtio.sh - Debian's kernel with virtio-mmio devices found through the
# DSDT (issue 9): an ext4 root on `--disk root.img,rw` made with
# `mkfs.ext4 -d` (no loop mounts) is read, written and synced by the guest,
# which powers off; the host reads the file back with debugfs.  The same
# image with `,snapshot` stays byte-identical although the guest wrote; read
# only (no rw), the guest's writes fail.  hvc0 (--virtio-console) reaches
# stdout, /dev/hwrng (--virtio-rng) gives bytes.  A second disk is vdb.
# The initramfs is the corpus's busybox with an /init of ours and the six
# virtio modules of the same kernel package (scripts/virtio_modules.sh).
. "$(dirname "$0")/lib.sh"
ALL="virtio-blk-rw virtio-blk-rw-hostread virtio-blk-snapshot virtio-blk-ro virtio-console
     virtio-rng virtio-vdb virtio-blk-iothread"
need_kvm $ALL || exit 0
need_corpus $ALL || exit 0
runs_here $ALL || exit 0
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
KO=${VIRTIO_KO:-$BUILD/virtio-ko}
if ! ls "$KO"/virtio_blk.ko >/dev/null 2>&1; then
	for n in $ALL; do
		t_skip "$n" "no virtio modules in $KO (run scripts/virtio_modules.sh on the build machine)"
	done
	exit 0
fi
for tool in mkfs.ext4 debugfs cpio; do
	if ! command -v $tool >/dev/null && ! [ -x /sbin/$tool ] && ! [ -x /usr/sbin/$tool ]; then
		for n in $ALL; do t_skip "$n" "$tool not installed (e2fsprogs, cpio)"; done
		exit 0
	fi
done
export PATH=$PATH:/sbin:/usr/sbin
LIMIT=${LIMIT:-300}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The initramfs: busybox from the corpus, the modules, our /init.  The
# test's mode comes on the command line (virtio_test=rw|ro|snap).
mkdir -p "$WORK/root/lib" "$WORK/rootfs"
corpus_initrd=$(realpath "$CORPUS/linux/initramfs-corpus.cpio.gz")
(cd "$WORK/root" && gzip -dc "$corpus_initrd" |
	cpio -id --quiet) || { t_fail virtio-blk-rw "cannot unpack the corpus initramfs"; exit 0; }
cp "$KO"/*.ko "$WORK/root/lib/"
cat > "$WORK/root/init" <<'EOF'
#!/bin/sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console virtio-rng; do
	$B insmod /lib/$m.ko || $B echo "VT: insmod $m failed"
done
mode=$($B sed -n 's/.*virtio_test=\([a-z]*\).*/\1/p' /proc/cmdline)
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do $B sleep 0.1; i=$((i + 1)); done
$B echo "VT: mode=$mode disks=$($B ls /sys/block | $B grep vd | $B tr '\n' ' ')"
$B echo "VT: vda ro=$($B cat /sys/block/vda/ro) size=$($B cat /sys/block/vda/size)"
$B mkdir -p /mnt
if [ "$mode" = ro ]; then
	$B mount -t ext4 -o ro /dev/vda /mnt && $B echo "VT: mounted ro"
	$B echo "VT: read: $($B cat /mnt/hello)"
	if $B dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync 2>/dev/null; then
		$B echo "VT: raw write succeeded"
	else
		$B echo "VT: raw write failed as it should"
	fi
	$B umount /mnt
else
	$B mount -t ext4 /dev/vda /mnt && $B echo "VT: mounted rw"
	$B echo "VT: read: $($B cat /mnt/hello)"
	$B echo "written-by-guest-$((6 * 7))" > /mnt/f && $B sync && $B echo "VT: wrote /f and synced"
	$B umount /mnt && $B echo "VT: unmounted"
fi
if [ -b /dev/vdb ]; then
	$B echo "VT: vdb first bytes: $($B dd if=/dev/vdb bs=16 count=1 2>/dev/null)"
fi
if [ -c /dev/hvc0 ]; then
	$B echo "HVC0-$((6 * 7))-OK" > /dev/hvc0
fi
if [ -c /dev/hwrng ]; then
	$B echo "VT: rng_current=$($B cat /sys/class/misc/hw_random/rng_current)"
	$B echo "VT: hwrng bytes=$($B dd if=/dev/hwrng bs=32 count=1 2>/dev/null | $B wc -c)"
fi
$B echo "VT: irqs $($B grep -c virtio /proc/interrupts)"
$B poweroff -f
$B sleep 30
EOF
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/vt.cpio.gz"

echo "hello from the host" > "$WORK/rootfs/hello"
mkimg() { rm -f "$1"; mkfs.ext4 -q -F -d "$WORK/rootfs" "$1" 16M >/dev/null 2>&1; }
printf 'SECOND-DISK-DATA' > "$WORK/vdb.img"
truncate -s 64K "$WORK/vdb.img"

boot() { # MODE DISKARG [more args]: one boot; OUT, RC
	local mode=$1 t0=$SECONDS; shift
	run_nobios "$LIMIT" run "$KERNEL" --initrd "$WORK/vt.cpio.gz" -m 512M -v \
		--cmdline "console=ttyS0 panic=-1 virtio_test=$mode" --timeout $((LIMIT - 10)) "$@"
	echo "   virtio $mode: $((SECONDS - t0)) s, exit status $RC"
}

# read-write: the host reads the guest's file back
mkimg "$WORK/root.img"
boot rw --disk "$WORK/root.img,rw" --disk "$WORK/vdb.img" --virtio-console --virtio-rng
check virtio-blk-rw eval '[ "$RC" = 0 ] && has "VT: mounted rw" &&
	has "VT: read: hello from the host" && has "VT: wrote /f and synced" &&
	has "VT: unmounted" && has "VT: vda ro=0 size=32768" &&
	has "virtio-blk vda at [0xd0000000, 0xd0001000), GSI 16" && ! has "insmod virtio_blk failed"'
HOSTREAD=$(debugfs -R 'cat /f' "$WORK/root.img" 2>/dev/null)
OUT="$OUT
host read: $HOSTREAD"
check virtio-blk-rw-hostread eval '[ "$HOSTREAD" = "written-by-guest-42" ]'
check virtio-vdb eval 'has "VT: vdb first bytes: SECOND-DISK-DATA" && has "VT: mode=rw disks=vda vdb"'
check virtio-console eval 'has "HVC0-42-OK" && has "virtio-console at [0xd0003000"'
check virtio-rng eval 'has "VT: rng_current=virtio_rng.0" && has "VT: hwrng bytes=32"'

# snapshot: the guest writes, the image stays byte-identical (2 vCPUs: requests
# may come from either)
mkimg "$WORK/snap.img"
before=$(sha256sum < "$WORK/snap.img")
boot snap --disk "$WORK/snap.img,snapshot" --cpus 2
after=$(sha256sum < "$WORK/snap.img")
check virtio-blk-snapshot eval '[ "$RC" = 0 ] && has "VT: wrote /f and synced" &&
	has "VT: unmounted" && [ "$before" = "$after" ]'

# read-only: the device says so, the guest's writes fail, the image stays
mkimg "$WORK/ro.img"
before=$(sha256sum < "$WORK/ro.img")
boot ro --disk "$WORK/ro.img"
after=$(sha256sum < "$WORK/ro.img")
check virtio-blk-ro eval '[ "$RC" = 0 ] && has "VT: vda ro=1" && has "VT: mounted ro" &&
	has "VT: read: hello from the host" && has "VT: raw write failed as it should" &&
	[ "$before" = "$after" ]'

# --virtio-iothread: the same read-write round trip with requests served in
# the disk's I/O thread, kicked through KVM_IOEVENTFD (2 vCPUs)
mkimg "$WORK/io.img"
boot rw --disk "$WORK/io.img,rw" --virtio-iothread --cpus 2
HOSTREAD=$(debugfs -R 'cat /f' "$WORK/io.img" 2>/dev/null)
KICKS=$(printf '%s\n' "$OUT" | sed -n 's/.*virtio-blk vda: .* interrupts, \([0-9]*\) kicks through the I\/O thread.*/\1/p')
OUT="$OUT
host read: $HOSTREAD; kicks: $KICKS"
check virtio-blk-iothread eval '[ "$RC" = 0 ] && has "VT: wrote /f and synced" &&
	[ "$HOSTREAD" = "written-by-guest-42" ] && [ "${KICKS:-0}" -gt 0 ]'
