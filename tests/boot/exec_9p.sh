#!/bin/bash
# exec_9p.sh - `nobios exec` with the host's files (issue 10): Debian's
# generic kernel (it has 9p as modules; scripts/exec_kernel.sh fetches it
# and its modules) reads the host's / over nobios's virtio-9p device with a
# tmpfs overlay on top, runs in the host's current directory, writes a
# --rw directory through to the host, and loads a module with modprobe
# from --modules DIR shown at /lib/modules inside.  The conformance part
# runs the same commands (find -printf, ls -lRn, stat, readlink, sha256sum
# of a large file) in the guest and on the host and compares the outputs
# byte for byte; a file only root may read is refused to another user.
. "$(dirname "$0")/lib.sh"
ALL="exec-9p-boot exec-9p-host-file exec-9p-cwd exec-9p-overlay exec-9p-rw exec-9p-tree
     exec-9p-permission exec-9p-modprobe"
# shellcheck disable=SC2086
need_kvm $ALL || exit 0
# shellcheck disable=SC2086
runs_here $ALL || exit 0
# shellcheck disable=SC2086
hw_virt_host || { for n in $ALL; do t_skip "$n" "Linux boots take tens of minutes where ring-0 code is emulated ($HOST_KIND)"; done; exit 0; }
K=${EXEC_KERNEL:-$BUILD/exec-kernel}
if ! [ -f "$K/vmlinuz" ] || ! [ -f "$K/RELEASE" ]; then
	for n in $ALL; do t_skip "$n" "no kernel with 9p in $K (make exec-kernel on the build machine)"; done
	exit 0
fi
REL=$(cat "$K/RELEASE")
K=$(cd "$K" && pwd)
NB=$(cd "$(dirname "$NOBIOS")" && pwd)/$(basename "$NOBIOS")
LIMIT=${LIMIT:-300}
W=$BUILD/exec-9p-test
rm -rf "$W"; mkdir -p "$W/rw" "$W/tree/dir/deeper"
W=$(cd "$W" && pwd)

# The tree both sides list: files, a symlink in and one out, a hard-link
# pair, an empty file, a 24 MiB file, a file only root may read.
echo hello > "$W/tree/a.txt"
ln "$W/tree/a.txt" "$W/tree/dir/a-hard"
ln -s ../a.txt "$W/tree/dir/rel-link"
ln -s /etc/hostname "$W/tree/abs-link"
: > "$W/tree/dir/deeper/empty"
head -c $((24 << 20)) /dev/urandom > "$W/tree/big.bin"
echo secret > "$W/tree/root-only"; chmod 0600 "$W/tree/root-only"
chmod 0750 "$W/tree/dir"
LIST='cd tree && find . -printf "%p %y %s %n %m %U %G %T@ %l\n" | sort && ls -lRn --time-style=+%s . &&
	stat -c "%n %s %h %f %u %g %Y" a.txt dir/a-hard abs-link big.bin && readlink dir/rel-link &&
	sha256sum big.bin'
(cd "$W" && sh -c "$LIST") > "$W/host-list" 2>&1

# One boot does it all (a boot of this kernel takes a minute or more in
# the SVM test host); the script prints one marker per check.
cat > "$W/inside.sh" <<SH
echo "pwd=\$(pwd)"
echo "os-release=\$(sha256sum < /etc/os-release)"
echo inside > "$W/outside.txt" && echo "overlay-write=\$(cat "$W/outside.txt")"
cd rw && echo data > f1 && mkdir d && mv f1 d/f2 && ln -s d/f2 sl && ln d/f2 hl &&
	echo x > gone && rm gone && head -c 3000000 /dev/zero > big && chmod 0604 d/f2 &&
	touch -m -d @1000000 d/f2 && truncate -s 10 big && mkdir e && rmdir e && sync && echo rw-done
cd "$W" && (sh -c '$LIST') > "$W/rw/guest-list" 2>&1; echo "list-status=\$?"
if setpriv --reuid 65534 --regid 65534 --clear-groups cat tree/root-only 2>/dev/null; then
	echo perm=readable; else echo perm=refused; fi
modprobe dummy && grep -q '^dummy ' /proc/modules && echo modprobe-ok
echo "modules=\$(ls /lib/modules)"
SH
t0=$SECONDS
(cd "$W" && timeout -k 5 "$LIMIT" "$NB" exec "$K/vmlinuz" --modules "$K/modules/$REL" \
	--rw "$W/rw" --timeout $((LIMIT - 10)) -- sh "$W/inside.sh" </dev/null >"$W/out" 2>"$W/err"); RC=$?
echo "   exec (9p): $((SECONDS - t0)) s, status $RC"
OUT="$(cat "$W/out") || $(tail -5 "$W/err")"
marker() { grep -qx -- "$1" "$W/out"; }
check exec-9p-boot eval '[ "$RC" = 0 ]'
check exec-9p-host-file eval 'marker "os-release=$(sha256sum < /etc/os-release)"'
check exec-9p-cwd eval 'marker "pwd=$W"'
check exec-9p-overlay eval 'marker "overlay-write=inside" && [ ! -e "$W/outside.txt" ]'
check exec-9p-rw eval 'marker rw-done && [ "$(cat "$W/rw/d/f2")" = data ] && [ -L "$W/rw/sl" ] &&
	[ "$(readlink "$W/rw/sl")" = d/f2 ] && [ "$(stat -c %h "$W/rw/d/f2")" = 2 ] &&
	[ ! -e "$W/rw/gone" ] && [ "$(stat -c %s "$W/rw/big")" = 10 ] &&
	[ "$(stat -c %a.%Y "$W/rw/d/f2")" = 604.1000000 ] && [ ! -e "$W/rw/e" ]'
check exec-9p-tree eval 'marker list-status=0 && cmp -s "$W/host-list" "$W/rw/guest-list"'
[ -f "$W/rw/guest-list" ] && ! cmp -s "$W/host-list" "$W/rw/guest-list" &&
	diff "$W/host-list" "$W/rw/guest-list" | head -20
check exec-9p-permission eval 'marker perm=refused'
check exec-9p-modprobe eval 'marker modprobe-ok && marker "modules=$REL"'
