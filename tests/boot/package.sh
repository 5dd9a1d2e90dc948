#!/bin/bash
# package.sh - the Debian package (issue 12), built the way a user builds it:
# `make dist`, unpack, `dpkg-buildpackage -us -uc -b` (debhelper; its unit
# tests run in dh_auto_test), then the .deb is unpacked into a scratch root
# with `dpkg -x` and checked: its files, its declared dependencies (every
# run-time library nobios finds must come from a package it Depends on or
# Recommends), `nobios --version` (no git description in a package), and the
# demo guest run from there (KVM).
#
# The build takes 1-5 minutes (two shared cores), so it runs once per `make check`, in the
# host pass; the .deb is kept in $BUILD/deb/<hash of its sources>/ and
# the SVM test host pass checks that same package (tests/boot/host-limits:
# building under TCG emulation would take many minutes).
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
T_BUILD="package-build"
T_CHECK="package-contents package-depends package-libs-declared package-version package-manpage"
T_KVM="package-demo"
skip_all() { for n in $T_BUILD $T_CHECK $T_KVM; do t_skip "$n" "$1"; done; exit 0; }

version=$(sed -n 's/^#define NOBIOS_VERSION "\(.*\)"/\1/p' src/nobios.h)
# the first line of debian/changelog: "nobios (VERSION) unstable; ..."
debver=$(sed -n '1s/^nobios (\([^)]*\)).*/\1/p' debian/changelog)
OUT="debian/changelog: ${debver:-?}, src/nobios.h: $version"; RC=0
# the package's upstream version is nobios's own (0.1.0-1 for 0.1.0)
if [ -n "$debver" ] && [ "${debver%-*}" = "$version" ]; then t_pass package-version-matches
else t_fail package-version-matches "$OUT"; fi

# The .deb is found by the sources it was built from: a hash of the files
# `make dist` packs (the same list as the Makefile's dist rule: git's
# tracked and trackable files, or the tree minus build output) with their
# contents.  Cheap enough for the SVM test host, where `make dist` is not.
src_key() {
	if [ -e .git ]; then git ls-files -co --exclude-standard -z
	else find . -path ./.git -prune -o -path './build*' -prune -o -type f -printf '%P\0'
	fi | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}
key=$(src_key)
debdir=$BUILD/deb/$key

if runs_here $T_BUILD; then
	missing=""
	for tool in dpkg-buildpackage dh dpkg-checkbuilddeps; do
		command -v $tool >/dev/null || missing="$missing $tool"
	done
	[ -n "$missing" ] && skip_all "missing$missing (scripts/setup.sh installs debhelper and dpkg-dev)"
	OUT=$(make --no-print-directory BUILD="$BUILD" dist 2>&1) || skip_all "make dist failed: $OUT"
	tar -xzf "$BUILD/nobios-$version.tar.gz" -C "$tmp"
	src=$tmp/nobios-$version
	if ! deps=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
		skip_all "build dependencies not installed: ${deps#*: } (scripts/setup.sh installs them)"
	fi
	start=$SECONDS
	# as a user would: none of this test run's variables
	(cd "$src" && env -u RESULTS -u NOBIOS -u BUILD -u CORPUS -u GUESTS -u HOST_KIND \
		DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1
	RC=$?
	deb=$(ls "$tmp"/nobios_"$debver"_amd64.deb 2>/dev/null)
	OUT=$(tail -15 "$tmp/build.log")
	echo "   dpkg-buildpackage: status $RC in $((SECONDS - start)) s"
	check package-build eval '[ "$RC" = 0 ] && [ -f "$deb" ] &&
		grep -q "^[0-9]* passed, 0 failed" "$tmp/build.log"'
	if [ -f "$deb" ]; then
		rm -rf "$BUILD/deb"; mkdir -p "$debdir"
		cp "$deb" "$debdir/"
	fi
fi

deb=$(ls "$debdir"/nobios_*_amd64.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	for n in $T_CHECK $T_KVM; do
		t_skip "$n" "no .deb built from these sources ($debdir): tests/boot/package.sh on a host that builds it (not the SVM test host) makes it"
	done
	exit 0
fi
root=$tmp/root
dpkg -x "$deb" "$root"

# --- what is in it
want="./usr/bin/nobios
./usr/lib/nobios/demo.bzImage
./usr/share/bash-completion/completions/nobios
./usr/share/doc/nobios/README.md.gz
./usr/share/doc/nobios/changelog.Debian.gz
./usr/share/doc/nobios/copyright
./usr/share/man/man1/nobios.1.gz"
got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sort)
OUT=$got; RC=0
check package-contents eval '[ "$got" = "$want" ] && [ -x "$root/usr/bin/nobios" ]'
OUT=$(zcat "$root/usr/share/man/man1/nobios.1.gz" | cmp - doc/nobios.1 2>&1); RC=$?
check package-manpage eval '[ "$RC" = 0 ]'

# --- what it declares
fields=$(dpkg-deb -f "$deb" Depends Recommends)
depends=$(printf '%s\n' "$fields" | sed -n 's/^Depends: //p')
recommends=$(printf '%s\n' "$fields" | sed -n 's/^Recommends: //p')
OUT="Depends: $depends; Recommends: $recommends"; RC=0
# the package names of a relationship field, one a line (no processes: each
# costs a second or two in the SVM test host)
names() {
	local IFS=, p
	for p in $1; do
		p=${p#"${p%%[! ]*}"}
		printf '%s\n' "${p%%[ (]*}"
	done
}
deps_ok() {
	local p
	for p in libc6 zlib1g liblzma5 libzstd1 liblz4-1 libbz2-1.0; do
		names "$depends" | grep -qx "$p" || return 1
	done
	names "$recommends" | grep -qx libunicorn2
}
check package-depends deps_ok
echo "   Depends: $depends"
echo "   Recommends: $recommends"

# --- the packaged binary: its version, and its libraries' packages
OUT=$("$root/usr/bin/nobios" --version 2>&1); RC=$?
check package-version eval '[ "$RC" = 0 ] && [ "$OUT" = "nobios $version" ]'
# every library it finds here is shipped by a package it declares; dpkg
# knows a file by the path its package installed (/lib or /usr/lib)
if runs_here package-libs-declared; then
	vv=$("$root/usr/bin/nobios" --version -v 2>&1)
	found=$(printf '%s\n' "$vv" | sed -nE 's/^  ([^ ]+) +found .* at (\/[^ ]+) \(.*/\1 \2/p')
	# one dpkg -S for all of them (it reads the whole database each time), with
	# each path in its /lib and /usr/lib spellings and resolved
	paths=$(while read -r so path; do
		real=$(readlink -f "$path")
		printf '%s\n' "$path" "$real" "${path#/usr}" "/usr$path" "${real#/usr}" "/usr$real"
	done <<< "$found" | grep '^/' | sort -u)
	owners=$(dpkg -S $paths 2>/dev/null)
	undeclared="" nfound=0
	while read -r so path; do
		[ -n "$so" ] || continue
		nfound=$((nfound + 1))
		real=$(readlink -f "$path")
		# "pkg:arch: /path" lines for this library's spellings
		pkg=$(printf '%s\n' "$owners" | awk -v a="${path#/usr}" -v b="${real#/usr}" '{
			p = $NF; sub(/^\/usr/, "", p); if (p == a || p == b) { sub(/:.*/, "", $1); print $1; exit } }')
		if [ -z "$pkg" ] || ! { names "$depends"; names "$recommends"; } | grep -qx "$pkg"; then
			undeclared="$undeclared $so(${pkg:-no package})"
		fi
	done <<< "$found"
	OUT="found $nfound libraries; not declared:$undeclared"; RC=0
	check package-libs-declared eval '[ "$nfound" -ge 5 ] && [ -z "$undeclared" ]'
fi

# --- the demo guest from the scratch root
if need_kvm $T_KVM; then
	OUT=$(timeout -k 5 30 "$root/usr/bin/nobios" run "$root/usr/lib/nobios/demo.bzImage" \
		--cmdline "from the package" </dev/null 2>&1); RC=$?
	check package-demo eval '[ "$RC" = 0 ] && has "Demo done" && has "from the package\""'
fi
