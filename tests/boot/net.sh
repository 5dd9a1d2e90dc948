#!/bin/bash
# net.sh - virtio-net on a TAP (issue 9).  Debian's kernel (the corpus's
# cloud kernel with the virtio_net module from scripts/virtio_modules.sh)
# boots (2 vCPUs: either may notify while the receive thread fills buffers)
# with `--net tap=nbt0,mac=...` where nbt0 is a TAP the test made in a
# network namespace of its own (`unshare -n`: the namespace, its TAP and its
# server go away with the test's processes).  The host side of nbt0 is
# 10.0.2.1 with a small HTTP server (net_server.py); the guest is 10.0.2.15:
# it pings the host, downloads a random file (checked by SHA-256 against the
# host's), uploads one of its own (the host's SHA-256 of what it received
# against the guest's), and powers off; the host's neighbour table, read
# while the guest runs, must show the guest's MAC.  A second boot with `--net tap`
# (no name) in another namespace checks the TAP nobios creates itself: named
# by the kernel (nbtap0), printed by -v, the guest's MAC derived from that
# name, and gone once nobios has exited.
# The error paths need no KVM and run on every host: a name that is not a
# TAP (status 2), no permission for /dev/net/tun (status 6), no
# /dev/net/tun at all (status 6), each with one line.
. "$(dirname "$0")/lib.sh"
export PATH=$PATH:/sbin:/usr/sbin
ERRS="net-error-not-tap net-error-permission net-error-no-tun"
ALL="net-mac net-ping net-download net-upload net-counters net-auto-tap net-auto-tap-gone"
KERNEL=$CORPUS/linux/vmlinuz-cloud-amd64
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- errors, before any KVM: machine_create opens the TAP first
if [ "$(id -u)" != 0 ]; then
	for n in $ERRS; do t_skip "$n" "needs root (to open /dev/net/tun and drop privileges)"; done
elif [ ! -c /dev/net/tun ]; then
	for n in $ERRS; do t_skip "$n" "no /dev/net/tun on this machine (modprobe tun)"; done
else
	# lo exists and is not a TAP: an input error
	run_nobios 30 run "$NOBIOS" --net tap=lo
	check net-error-not-tap eval '[ "$RC" = 2 ] && has "--net tap=lo: not a single-queue TAP" &&
		[ "$(printf "%s\n" "$OUT" | wc -l)" = 1 ]'
	# without CAP_NET_ADMIN (and, as on Debian, /dev/net/tun 0666 or not):
	# a host error naming the flag
	if command -v setpriv >/dev/null; then
		OUT=$(timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$NOBIOS" run "$NOBIOS" --net tap </dev/null 2>&1); RC=$?
		check net-error-permission eval '[ "$RC" = 6 ] && has "nobios: --net tap: /dev/net/tun: " &&
			{ has "Permission denied" || has "Operation not permitted"; } &&
			[ "$(printf "%s\n" "$OUT" | wc -l)" = 1 ]'
	else
		t_skip net-error-permission "setpriv (util-linux) not installed"
	fi
	# no /dev/net/tun: an empty /dev/net in a mount namespace of its own
	if OUT=$(timeout -k 5 30 unshare -m -- sh -c 'mount -t tmpfs none /dev/net &&
		exec "$0" run "$0" --net tap=nbt9' "$NOBIOS" </dev/null 2>&1); then RC=0; else RC=$?; fi
	if has "mount:" || has "unshare:"; then
		t_skip net-error-no-tun "cannot hide /dev/net/tun here (unshare -m): $OUT"
	else
		check net-error-no-tun eval '[ "$RC" = 6 ] && has "/dev/net/tun: No such file or directory" &&
			has "modprobe tun"'
	fi
fi

# ---- the guest on a TAP
need_kvm $ALL || exit 0
need_corpus $ALL || exit 0
runs_here $ALL || exit 0
KO=${VIRTIO_KO:-$BUILD/virtio-ko}
if ! ls "$KO"/virtio_net.ko "$KO"/net_failover.ko "$KO"/failover.ko >/dev/null 2>&1; then
	for n in $ALL; do
		t_skip "$n" "no virtio_net modules in $KO (run scripts/virtio_modules.sh on the build machine)"
	done
	exit 0
fi
for tool in ip unshare python3 cpio; do
	if ! command -v $tool >/dev/null; then
		for n in $ALL; do t_skip "$n" "$tool not installed (iproute2, util-linux, python3, cpio)"; done
		exit 0
	fi
done
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! unshare -n true 2>/dev/null; then
	for n in $ALL; do
		t_skip "$n" "needs root, /dev/net/tun and network namespaces (unshare -n)"
	done
	exit 0
fi
LIMIT=${LIMIT:-300}
HERE=$(cd "$(dirname "$0")" && pwd)
case $NOBIOS in /*) ;; *) NOBIOS=$PWD/$NOBIOS ;; esac

# The initramfs: busybox from the corpus, the modules, our /init; the
# test's mode comes on the command line (net_test=full|auto).
mkdir -p "$WORK/root/lib"
corpus_initrd=$(realpath "$CORPUS/linux/initramfs-corpus.cpio.gz")
(cd "$WORK/root" && gzip -dc "$corpus_initrd" |
	cpio -id --quiet) || { t_fail net-ping "cannot unpack the corpus initramfs"; exit 0; }
cp "$KO"/*.ko "$WORK/root/lib/"
cat > "$WORK/root/init" <<'EOF'
#!/bin/sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
$B mkdir -p /tmp
$B mount -t tmpfs tmp /tmp
for m in virtio_ring virtio virtio_mmio failover net_failover virtio_net; do
	$B insmod /lib/$m.ko || $B echo "NT: insmod $m failed"
done
mode=$($B sed -n 's/.*net_test=\([a-z]*\).*/\1/p' /proc/cmdline)
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i + 1)); done
$B echo "NT: mode=$mode mac=$($B cat /sys/class/net/eth0/address)"
if [ "$mode" = full ]; then
	$B ip link set lo up
	$B ip link set eth0 up
	$B ip addr add 10.0.2.15/24 dev eth0
	$B echo "NT: carrier=$($B cat /sys/class/net/eth0/carrier)"
	if $B ping -c 3 -W 20 10.0.2.1 > /tmp/ping 2>&1; then
		$B echo "NT: ping ok: $($B grep 'packets transmitted' /tmp/ping)"
	else
		$B echo "NT: ping failed: $($B tr '\n' '|' < /tmp/ping)"
	fi
	if $B wget -q -O /tmp/blob http://10.0.2.1:8080/blob; then
		$B echo "NT: download $($B stat -c %s /tmp/blob) $($B sha256sum /tmp/blob | $B cut -d' ' -f1)"
	else
		$B echo "NT: download failed"
	fi
	# busybox wget sends --post-file's contents up to the first NUL byte
	# (strlen): random bytes as base64 text
	$B dd if=/dev/urandom bs=1024 count=576 2>/dev/null | $B base64 > /tmp/up
	$B echo "NT: upload-local $($B stat -c %s /tmp/up) $($B sha256sum /tmp/up | $B cut -d' ' -f1)"
	if $B wget -q -O /tmp/reply --post-file /tmp/up http://10.0.2.1:8080/up; then
		$B echo "NT: upload-host $($B cat /tmp/reply)"
	else
		$B echo "NT: upload failed"
	fi
fi
$B poweroff -f
$B sleep 30
EOF
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/nt.cpio.gz"
head -c 1048576 /dev/urandom > "$WORK/blob"

# The namespace's side, run by `unshare -n`: the TAP, its address, the
# server, then nobios; what the host saw of the guest (its neighbour entry)
# afterwards.  The namespace ends with this script.
cat > "$WORK/ns-full.sh" <<'EOF'
set -u
ip link set lo up
ip tuntap add dev nbt0 mode tap || { echo "NS: ip tuntap add failed"; exit 3; }
ip addr add 10.0.2.1/24 dev nbt0
ip link set nbt0 up
python3 "$HERE/net_server.py" 10.0.2.1 8080 "$WORK/blob" "$WORK/upload" "$WORK/ready" \
	2> "$WORK/server.log" &
spid=$!
# python3 starts slowly under TCG on a loaded machine: up to 90 s
for _ in $(seq 900); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
[ -e "$WORK/ready" ] || echo "NS: the server did not start: $(cat "$WORK/server.log")"
# the neighbour entry goes when the link does (nobios's exit): look while
# the guest runs
(while :; do ip neigh show dev nbt0 >> "$WORK/neigh"; sleep 0.5; done) &
npid=$!
timeout -k 5 "$LIMIT" "$NOBIOS" run "$KERNEL" --initrd "$WORK/nt.cpio.gz" -m 512M -v \
	--cmdline "console=ttyS0 panic=-1 net_test=full" --timeout $((LIMIT - 10)) \
	--net tap=nbt0,mac=52:54:00:12:34:56 --cpus 2 </dev/null
echo "NS: nobios exit status $?"
kill $npid $spid 2>/dev/null
wait $npid $spid 2>/dev/null
echo "NS: neighbours: $(sort -u "$WORK/neigh" 2>/dev/null | tr '\n' '|')"
exit 0
EOF
cat > "$WORK/ns-auto.sh" <<'EOF'
set -u
ip link set lo up
timeout -k 5 "$LIMIT" "$NOBIOS" run "$KERNEL" --initrd "$WORK/nt.cpio.gz" -m 512M -v \
	--cmdline "console=ttyS0 panic=-1 net_test=auto" --timeout $((LIMIT - 10)) \
	--net tap </dev/null
echo "NS: nobios exit status $?"
# a TAP nobios created goes away with it (its last fd closed: the deferred
# teardown's child holds the fds a moment longer)
gone=no
for _ in $(seq 50); do
	ip link show nbtap0 >/dev/null 2>&1 || { gone=yes; break; }
	sleep 0.1
done
echo "NS: nbtap0 gone after exit: $gone"
EOF
export HERE WORK LIMIT NOBIOS KERNEL

t0=$SECONDS
OUT=$(unshare -n -- bash "$WORK/ns-full.sh" 2>&1)
RC=$(printf '%s\n' "$OUT" | sed -n 's/^NS: nobios exit status //p')
echo "   net full: $((SECONDS - t0)) s, exit status $RC"
BLOB_SUM=$(sha256sum < "$WORK/blob" | cut -d' ' -f1)
UP_SUM=$( [ -f "$WORK/upload" ] && sha256sum < "$WORK/upload" | cut -d' ' -f1)
UP_SIZE=$(stat -c %s "$WORK/upload" 2>/dev/null)
UP_LOCAL=$(printf '%s\n' "$OUT" | sed -n 's/.*NT: upload-local \([0-9]*\) \([0-9a-f]*\).*/\1 \2/p' | head -1)
OUT="$OUT
host: blob $BLOB_SUM, upload received $UP_SIZE $UP_SUM"
printf '%s\n' "$OUT" | grep -E 'NT:|NS:|virtio-net|^host:' | sed 's/^/   /' 
check net-mac eval '[ "$RC" = 0 ] && has "NT: mode=full mac=52:54:00:12:34:56" &&
	has "lladdr 52:54:00:12:34:56" && has "TAP nbt0, MAC 52:54:00:12:34:56"'
check net-ping eval 'has "NT: ping ok: 3 packets transmitted, 3 packets received" &&
	has "NT: carrier=1"'
check net-download eval 'has "NT: download 1048576 $BLOB_SUM"'
check net-upload eval '[ -n "$UP_SUM" ] && [ "${UP_SIZE:-0}" -gt 786432 ] &&
	[ "$UP_LOCAL" = "$UP_SIZE $UP_SUM" ] && has "NT: upload-host $UP_SIZE $UP_SUM"'
# -v counters: frames both ways, none dropped, the receive side waited
# for buffers rather than dropping
check net-counters eval 'printf "%s\n" "$OUT" | grep -qE "virtio-net nbt0: received [1-9][0-9]* frames \([0-9]+ bytes\), sent [1-9][0-9]* \([0-9]+ bytes\); dropped: 0 received frames larger than the guest.s buffer or 65550 bytes, 0 bad receive buffers, 0 sent with a bad header, 0 of a bad size, 0 refused by the TAP; 0 refused chains"'

t0=$SECONDS
OUT=$(unshare -n -- bash "$WORK/ns-auto.sh" 2>&1)
RC=$(printf '%s\n' "$OUT" | sed -n 's/^NS: nobios exit status //p')
echo "   net auto: $((SECONDS - t0)) s, exit status $RC"
printf '%s\n' "$OUT" | grep -E 'NT:|NS:|virtio-net' | sed 's/^/   /'
# 02:4e:42 and FNV-1a of the name (src/net/tap.c)
WANT_MAC=$(python3 -c 'h = 2166136261
for c in b"nbtap0": h = ((h ^ c) * 16777619) & 0xffffffff
print("02:4e:42:%02x:%02x:%02x" % (h >> 16 & 255, h >> 8 & 255, h & 255))')
check net-auto-tap eval '[ "$RC" = 0 ] &&
	has "TAP nbtap0 (created; gone when nobios exits), MAC $WANT_MAC (derived from the TAP'"'"'s name)" &&
	has "NT: mode=auto mac=$WANT_MAC"'
check net-auto-tap-gone eval 'has "NS: nbtap0 gone after exit: yes"'
