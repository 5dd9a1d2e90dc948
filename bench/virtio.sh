#!/bin/bash
# bench/virtio.sh [RUNS] - virtio-blk inside the guest: sequential reads with
# busybox dd (1 MiB blocks through the page cache, dropped before each pass;
# 4 KiB blocks with O_DIRECT: one request each, so requests per second), then
# sequential 1 MiB writes ended by fsync (the flush reaches the host's
# fdatasync), of a 256 MiB image (writable in both), nobios (requests served in the vCPU thread; and with
# --virtio-iothread, in an I/O thread kicked by KVM_IOEVENTFD) against QEMU
# microvm with virtio-blk-device on the same image, kernel and initramfs (Debian's cloud kernel; the DSDT announces
# the devices to both; QEMU with its default writeback cache, as nobios reads
# through the host's page cache).  Run it in the SVM test host, where KVM works:
#   tests/svm/run --timeout 3600 -- bash bench/virtio.sh 3
# Needs the corpus and scripts/virtio_modules.sh's modules.  Interleaved
# runs, medians; TCG is slow and the machine shared: compare ratios.
# NOBIOS_VARIANTS="NAME=BINARY ..." adds other nobios builds to the same
# run (a before/after: NOBIOS_VARIANTS="main=/path/to/old/nobios");
# VIRTIO_WHO picks the rows (default: nobios nobios_iothread qemu, then the
# variants).  Each run also prints the guest's count of virtio interrupts.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
KO=${VIRTIO_KO:-$BUILD/virtio-ko}
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
[ -f "$KO/virtio_blk.ko" ] && [ -f "$KERNEL" ] || { echo "bench virtio: needs the corpus and $KO"; exit 1; }
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/root/lib"
rd=$(realpath "$CORPUS/linux/initramfs-corpus.cpio.gz")
(cd "$T/root" && gzip -dc "$rd" | cpio -id --quiet)
cp "$KO"/*.ko "$T/root/lib/"
cat > "$T/root/init" <<'INIT'
#!/bin/sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio virtio_blk; do $B insmod /lib/$m.ko; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do $B sleep 0.1; i=$((i + 1)); done
# busybox dd prints no rate: time each pass with /proc/uptime (10 ms ticks)
up() { $B cut -d' ' -f1 /proc/uptime; }
echo 3 > /proc/sys/vm/drop_caches
t0=$(up); $B dd if=/dev/vda of=/dev/null bs=1M 2>/dev/null; t1=$(up)
$B echo "BENCH seq1M $t0 $t1"
# reads completed and sectors read (Documentation/block/stat.rst): the mean request size
$B echo "BENCH stat $($B cat /sys/block/vda/stat) ra=$($B cat /sys/block/vda/queue/read_ahead_kb) max_kb=$($B cat /sys/block/vda/queue/max_sectors_kb) segs=$($B cat /sys/block/vda/queue/max_segments) segsz=$($B cat /sys/block/vda/queue/max_segment_size)"
t0=$(up); $B dd if=/dev/vda of=/dev/null bs=4k count=8192 iflag=direct 2>/dev/null; t1=$(up)
$B echo "BENCH direct4K $t0 $t1"
# sequential writes: 1 MiB blocks through the page cache, then fsync (the
# device's flush: fdatasync on the host for both), so the time covers every
# byte reaching the image
t0=$(up); $B dd if=/dev/zero of=/dev/vda bs=1M count=256 conv=fsync 2>/dev/null; t1=$(up)
$B echo "BENCH write1M $t0 $t1"
# the feature bits the driver accepted (one character per bit: 29 is EVENT_IDX)
$B echo "BENCH features $($B cat /sys/block/vda/device/features)"
# used buffer notifications the guest took (/proc/interrupts, all CPUs)
$B echo "BENCH irqs $($B awk '/virtio|LNRO/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)"
$B poweroff -f
INIT
chmod +x "$T/root/init"
(cd "$T/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$T/rd.gz"
head -c $((256 << 20)) /dev/urandom > "$T/disk.img"
CMD="console=ttyS0 panic=-1"
NOBIOS=$BUILD/nobios
run_nobios() { timeout 600 "$NOBIOS" run "$KERNEL" --initrd "$T/rd.gz" -m 512M \
	--cmdline "$CMD" --disk "$T/disk.img,rw" "$@" </dev/null 2>&1; }
# the same, requests served in an I/O thread kicked by KVM_IOEVENTFD
run_nobios_iothread() { run_nobios --virtio-iothread; }
run_qemu() { timeout 600 qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -m 512M \
	-nodefaults -nographic -no-reboot -serial stdio -monitor none -kernel "$KERNEL" \
	-initrd "$T/rd.gz" -append "$CMD" \
	-drive id=d0,file="$T/disk.img",format=raw,if=none \
	-device virtio-blk-device,drive=d0 </dev/null 2>&1; }
# "BENCH seq1M T0 T1" -> seconds
rate() { awk -v k="$1" '$1 == "BENCH" && $2 == k { printf "%.2f\n", $4 - $3; exit }'; }
declare -A res variant
WHO=${VIRTIO_WHO:-nobios nobios_iothread qemu}
for v in ${NOBIOS_VARIANTS:-}; do
	variant[${v%%=*}]=${v#*=}
	[ -n "${VIRTIO_WHO:-}" ] || WHO="$WHO ${v%%=*}"
done
for r in $(seq 1 "$RUNS"); do
	for who in $WHO; do
		if [ -n "${variant[$who]:-}" ]; then
			out=$(NOBIOS=${variant[$who]} run_nobios)
		else
			out=$(run_$who)
		fi
		s1=$(printf '%s\n' "$out" | rate seq1M); s4=$(printf '%s\n' "$out" | rate direct4K)
		sw=$(printf '%s\n' "$out" | rate write1M)
		st=$(printf '%s\n' "$out" | awk '$1 == "BENCH" && $2 == "stat" {
			q = $0; sub(/.* ra=/, "ra=", q)
			printf "%d reads, %.0f KiB each (%s)", $3, $5 / 2 / ($3 ? $3 : 1), q; exit }')
		irqs=$(printf '%s\n' "$out" | awk '$1 == "BENCH" && $2 == "irqs" { print $3; exit }')
		evi=$(printf '%s\n' "$out" | awk '$1 == "BENCH" && $2 == "features" { print substr($3, 30, 1); exit }')
		echo "run $r $who: seq 1M: ${s1:-?} s for 256 MiB; 4K direct: ${s4:-?} s for 8192 reads; seq write 1M: ${sw:-?} s; ${irqs:-?} interrupts; EVENT_IDX ${evi:-?}; $st"
		[ -z "$s1" ] && printf '%s\n' "$out" | tail -5
		res[$who-seq]="${res[$who-seq]:-} ${s1:-}"
		res[$who-4k]="${res[$who-4k]:-} ${s4:-}"
		res[$who-w]="${res[$who-w]:-} ${sw:-}"
	done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
for who in $WHO; do
	ms=$(median "${res[$who-seq]}"); m4=$(median "${res[$who-4k]}"); mw=$(median "${res[$who-w]}")
	awk -v w="$who" -v s="$ms" -v f="$m4" -v x="$mw" 'BEGIN {
		printf "%-16s sequential 1M: %s MiB/s (median %s s); 4K O_DIRECT: %s reads/s (median %s s); sequential write 1M + fsync: %s MiB/s (median %s s)\n",
			w, s ? sprintf("%.1f", 256 / s) : "?", s, f ? sprintf("%.0f", 8192 / f) : "?", f,
			x ? sprintf("%.1f", 256 / x) : "?", x }'
done
