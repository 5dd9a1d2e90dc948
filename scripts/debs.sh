# scripts/debs.sh - fetch Debian packages without installing them (sourced).
#   debs_fetch DIR PKG...   apt-get download PKG... into DIR (kept: the next
#                           call finds them there), refreshing the package
#                           lists once when a download fails; 1 on failure
#   debs_extract DIR ROOT   dpkg-deb -x every DIR/*.deb into ROOT and write
#                           ROOT/VERSIONS ("package version" lines)
# The same way tests/svm/run fetches its kernel and busybox: nothing lands
# on the machine outside DIR and ROOT, no root needed once the lists exist.
debs_fetch() {
	local dir=$1 p missing=
	shift
	mkdir -p "$dir"
	for p in "$@"; do
		ls "$dir/${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086 # a list of package names
	if ! (cd "$dir" && apt-get download $missing >/dev/null 2>&1); then
		local sudo=
		[ "$(id -u)" = 0 ] || sudo=sudo
		$sudo apt-get update -q >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		(cd "$dir" && apt-get download $missing >/dev/null 2>&1) || {
			echo "apt-get download$missing failed (network or package lists)" >&2
			return 1
		}
	fi
}
debs_extract() {
	local dir=$1 root=$2 d
	mkdir -p "$root"
	: > "$root/VERSIONS"
	for d in "$dir"/*.deb; do
		dpkg-deb -x "$d" "$root" || return 1
		echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)" >> "$root/VERSIONS"
	done
}
