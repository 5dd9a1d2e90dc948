#!/bin/bash
# install.sh - `make install` / `make uninstall` into a DESTDIR, honouring
# PREFIX (issue 12): exactly the expected files with the expected modes, an
# installed binary that runs the installed demo guest (KVM), a man page that
# man finds under the prefix, and an uninstall that leaves no file and none
# of nobios's own directories.  Then `make dist`: a tarball of every tracked
# file and no build output.  The build itself is not redone: make finds the
# binary and the demo up to date.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
MK="make --no-print-directory BUILD=$BUILD"

# install copies what make built and builds nothing (it may run as root in a
# user's tree): no compiler, no git among the commands it would run
OUT=$($MK -n install DESTDIR="$tmp/dry" 2>&1); RC=$?
check install-builds-nothing eval '[ "$RC" = 0 ] && has "install -m 0755" &&
	! printf "%s\n" "$OUT" | grep -qE "(^|[ /])(cc|gcc|git|nasm) "'

# What `make install` puts under PREFIX, with modes (README "Install").
expected() { # PREFIX (no leading slash)
	printf '%s\n' "755 $1/bin/nobios" "644 $1/share/man/man1/nobios.1" \
		"644 $1/share/bash-completion/completions/nobios" "644 $1/share/doc/nobios/README.md" \
		"644 $1/lib/nobios/demo.bzImage" | sort -k2
}
listing() { (cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | sort -k2); }

install_case() { # NAME PREFIX
	local name=$1 prefix=$2 root=$tmp/root-$1
	OUT=$($MK install DESTDIR="$root" PREFIX="$prefix" 2>&1); RC=$?
	local got; got=$(listing "$root")
	check "$name-files" eval '[ "$RC" = 0 ] && [ "$got" = "$(expected "${prefix#/}")" ]'
	[ "$got" = "$(expected "${prefix#/}")" ] || printf '  got:\n%s\n  want:\n%s\n' "$got" "$(expected "${prefix#/}")"
	local p=$root$prefix
	check "$name-same-files" eval 'cmp -s "$p/bin/nobios" "$NOBIOS" && cmp -s "$p/share/man/man1/nobios.1" doc/nobios.1 &&
		cmp -s "$p/share/bash-completion/completions/nobios" completion/nobios &&
		cmp -s "$p/lib/nobios/demo.bzImage" "$GUESTS/demo.bzImage"'
	OUT=$("$p/bin/nobios" --version 2>&1); RC=$?
	check "$name-version" eval '[ "$RC" = 0 ] && [ "$OUT" = "$("$NOBIOS" --version)" ]'
	if command -v man >/dev/null; then
		OUT=$(man -M "$p/share/man" -w nobios 2>&1); RC=$?
		check "$name-man-found" eval '[ "$RC" = 0 ] && [ "$OUT" = "$p/share/man/man1/nobios.1" ]'
	else
		t_skip "$name-man-found" "man is not installed"
	fi
	# the README's first command, from the installed copy
	if need_kvm "$name-demo"; then
		OUT=$(timeout -k 5 30 "$p/bin/nobios" run "$p/lib/nobios/demo.bzImage" --cmdline "installed" \
			</dev/null 2>&1); RC=$?
		check "$name-demo" eval '[ "$RC" = 0 ] && has "Demo done" &&
			has "command line: \"console=ttyS0 panic=-1 reboot=k,panic_warm installed\""'
	fi
	OUT=$($MK uninstall DESTDIR="$root" PREFIX="$prefix" 2>&1); RC=$?
	local left; left=$(cd "$root" && find . -mindepth 1 \( -type f -o -type l -o -name '*nobios*' \) -printf '%P\n')
	check "$name-uninstall-leaves-nothing" eval '[ "$RC" = 0 ] && [ -z "$left" ]'
	[ -n "$left" ] && echo "  left behind: $(echo $left)"
}
install_case install-usr-local /usr/local
install_case install-prefix /opt/nb

# DESTDIR unset is the real system: never run here; but the variables must
# reach every path (a path without DESTDIR would write to /opt/nb).
[ -e /opt/nb ] && t_fail install-destdir-honoured "/opt/nb exists: an install ignored DESTDIR" ||
	t_pass install-destdir-honoured

# --- make dist ---------------------------------------------------------------
runs_here dist-tarball dist-contents dist-reproducible || exit 0
version=$(sed -n 's/^#define NOBIOS_VERSION "\(.*\)"/\1/p' src/nobios.h)
OUT=$($MK dist 2>&1); RC=$?
tarball=$BUILD/nobios-$version.tar.gz
check dist-tarball eval '[ "$RC" = 0 ] && [ -s "$tarball" ]'
if [ -s "$tarball" ]; then
	tar -tzf "$tarball" | sort > "$tmp/dist.list"
	bad=$(grep -vE "^nobios-$version/" "$tmp/dist.list"; grep -E "^nobios-$version/(build[^/]*|\.git)/" "$tmp/dist.list")
	need=""
	for f in Makefile README.md src/nobios.h doc/nobios.1 completion/nobios debian/control debian/rules \
		scripts/setup.sh tests/run.sh guests/demo/demo.c src/bios/pseudo-bios.asm; do
		grep -qx "nobios-$version/$f" "$tmp/dist.list" || need="$need $f"
	done
	# in a git checkout: every tracked file is in it
	if [ -e .git ] && command -v git >/dev/null; then
		while IFS= read -r f; do
			[ -e "$f" ] || continue # deleted in the working tree
			grep -qxF "nobios-$version/$f" "$tmp/dist.list" || need="$need $f"
		done < <(git ls-files)
	fi
	OUT="outside the top directory or build output: $(echo $bad); missing:$need"; RC=0
	check dist-contents eval '[ -z "$bad" ] && [ -z "$need" ]'
	# reproducible: the same tree gives the same bytes
	sum1=$(sha256sum < "$tarball")
	$MK dist >/dev/null 2>&1
	OUT="$sum1 / $(sha256sum < "$tarball")"; RC=0
	check dist-reproducible eval '[ "$sum1" = "$(sha256sum < "$tarball")" ]'
fi
