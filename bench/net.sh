#!/bin/bash
# bench/net.sh [RUNS] - virtio-net throughput inside the guest: busybox wget
# downloads an 8 MiB file from an HTTP server on the host side of a TAP
# (guest receive) and posts ~2 MiB of base64 text to it (guest transmit;
# busybox wget posts --post-file's contents up to the first NUL, hence
# text), nobios against QEMU microvm with virtio-net-device on the same kind
# of TAP, kernel and initramfs (Debian's cloud kernel; the DSDT announces the
# device to both; QEMU's tap backend with its defaults: IFF_VNET_HDR and the
# checksum/segmentation offloads nobios does not offer, no vhost).  Each run
# in a network namespace of its own (unshare -n).  Run it in the SVM test
# host, where KVM works:
#   tests/svm/run --timeout 3600 -- bash bench/net.sh 3
# RX_MIB, TX_KIB and WHOS ("nobios qemu") change what is measured.
# Needs the corpus and scripts/virtio_modules.sh's modules.  Interleaved
# runs, medians; TCG is slow and the machine shared: compare ratios.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-3}
RX_MIB=${RX_MIB:-8}     # what the guest downloads
TX_KIB=${TX_KIB:-1536}  # random KiB the guest uploads as base64
WHOS=${WHOS:-"nobios qemu"}
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
KO=${VIRTIO_KO:-$BUILD/virtio-ko}
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
export PATH=$PATH:/sbin:/usr/sbin
[ -f "$KO/virtio_net.ko" ] && [ -f "$KERNEL" ] || { echo "bench net: needs the corpus and $KO"; exit 1; }
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
$B mkdir -p /tmp
$B mount -t tmpfs tmp /tmp
for m in virtio_ring virtio virtio_mmio failover net_failover virtio_net; do $B insmod /lib/$m.ko; done
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i + 1)); done
$B ip link set eth0 up
$B ip addr add 10.0.2.15/24 dev eth0
$B ping -c 1 -W 20 10.0.2.1 >/dev/null 2>&1
$B dd if=/dev/urandom bs=1024 count=$($B sed -n 's/.*tx_kib=\([0-9]*\).*/\1/p' /proc/cmdline) 2>/dev/null |
	$B base64 > /tmp/up
# busybox wget prints no rate: time each transfer with /proc/uptime (10 ms ticks)
up() { $B cut -d' ' -f1 /proc/uptime; }
# a stalled transfer fails (and says so) instead of waiting forever; not
# with wget's own -T, on which busybox 1.35's wget segfaults
t0=$(up); $B timeout 300 $B wget -q -O /dev/null http://10.0.2.1:8080/blob 2>/tmp/err ||
	$B echo "BENCH rx-failed: $($B tr '\n' ' ' < /tmp/err)"; t1=$(up)
$B echo "BENCH rx $t0 $t1"
t0=$(up); $B timeout 300 $B wget -q -O /tmp/reply --post-file /tmp/up http://10.0.2.1:8080/up 2>/tmp/err ||
	$B echo "BENCH tx-failed: $($B tr '\n' ' ' < /tmp/err)"; t1=$(up)
$B echo "BENCH tx $t0 $t1 $($B stat -c %s /tmp/up) $($B cat /tmp/reply)"
$B poweroff -f
INIT
chmod +x "$T/root/init"
(cd "$T/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$T/rd.gz"
head -c $((RX_MIB << 20)) /dev/urandom > "$T/blob"
CMD="console=ttyS0 panic=-1 tx_kib=$TX_KIB"
MAC=52:54:00:12:34:56
cat > "$T/ns.sh" <<'NS'
# in a network namespace of its own: the TAP, the server, one VMM
set -u
ip link set lo up
ip tuntap add dev nbt0 mode tap
ip addr add 10.0.2.1/24 dev nbt0
ip link set nbt0 up
rm -f "$T/ready"
python3 tests/boot/net_server.py 10.0.2.1 8080 "$T/blob" "$T/upload" "$T/ready" 2>"$T/server.log" &
spid=$!
# python3 starts slowly under TCG on a loaded machine: up to 90 s
for _ in $(seq 900); do [ -e "$T/ready" ] && break; sleep 0.1; done
[ -e "$T/ready" ] || echo "BENCH server-not-ready"
if [ "$WHO" = nobios ]; then
	timeout 900 "$BUILD/nobios" run "$KERNEL" --initrd "$T/rd.gz" -m 512M --cmdline "$CMD" -v \
		--net tap=nbt0,mac=$MAC </dev/null 2>&1
else
	timeout 900 qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -m 512M \
		-nodefaults -nographic -no-reboot -serial stdio -monitor none -kernel "$KERNEL" \
		-initrd "$T/rd.gz" -append "$CMD" \
		-netdev tap,id=n0,ifname=nbt0,script=no,downscript=no \
		-device virtio-net-device,netdev=n0,mac=$MAC </dev/null 2>&1
fi
kill $spid 2>/dev/null
wait $spid 2>/dev/null
grep -v '" 200 -$' "$T/server.log" | sed 's/^/SERVER: /'
NS
export T BUILD KERNEL CMD MAC
# "BENCH rx T0 T1" -> seconds
secs() { awk -v k="$1" '$1 == "BENCH" && $2 == k { printf "%.2f\n", $4 - $3; exit }'; }
declare -A res
for r in $(seq 1 "$RUNS"); do
	for who in $WHOS; do
		# the guest's BENCH lines (and nobios's counters) as they come
		WHO=$who unshare -n -- bash "$T/ns.sh" | tee "$T/out" |
			grep --line-buffered -E '^BENCH|virtio-net nbt0: received|^SERVER' |
			sed -u "s/^/   $who: /"
		out=$(cat "$T/out")
		rx=$(printf '%s\n' "$out" | secs rx); tx=$(printf '%s\n' "$out" | secs tx)
		# a transfer that failed has no rate
		printf '%s\n' "$out" | grep -q '^BENCH rx-failed' && rx=
		printf '%s\n' "$out" | grep -q '^BENCH tx-failed' && tx=
		chk=$(printf '%s\n' "$out" | awk '$1 == "BENCH" && $2 == "tx" { print ($5 == $6 ? "upload ok" : "upload SHORT: " $5 " sent, " $6 " received"); exit }')
		size=$(printf '%s\n' "$out" | awk '$1 == "BENCH" && $2 == "tx" { print $5; exit }')
		[ -n "$size" ] && SIZE=$size
		echo "run $r $who: receive $RX_MIB MiB: ${rx:-?} s; send ${size:-?} bytes: ${tx:-?} s; ${chk:-?}"
		[ -z "$rx" ] && printf '%s\n' "$out" | tail -5
		res[$who-rx]="${res[$who-rx]:-} ${rx:-}"
		res[$who-tx]="${res[$who-tx]:-} ${tx:-}"
	done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
for who in $WHOS; do
	mr=$(median "${res[$who-rx]}"); mt=$(median "${res[$who-tx]}")
	awk -v w="$who" -v r="$mr" -v t="$mt" -v sz="${SIZE:-0}" -v mib="$RX_MIB" 'BEGIN {
		printf "%-7s guest receive: %s MiB/s (median %s s); guest send: %s MiB/s (median %s s)\n",
			w, r ? sprintf("%.2f", mib / r) : "?", r, t ? sprintf("%.2f", sz / 1048576 / t) : "?", t }'
done
