# tests/boot/lib.sh - helpers for boot tests (sourced).
#   t_pass NAME | t_fail NAME WHY | t_skip NAME WHY
#   need_kvm NAME...      skip (loudly) the named tests when /dev/kvm is unusable
#   runs_here NAME...     skip the named tests on a host tests/boot/host-limits lists them for
#   need_corpus NAME...   skip when the corpus is missing
#   run_nobios SECS ARGS... run nobios with a time limit; sets OUT (stdout+stderr) and RC
# Every result line names the host it ran on: [svm] in the SVM test host
# (tests/svm/run), else [kvm_pvm], [vmx], [svm-hw] or [native] (no KVM).
: "${RESULTS:?run through tests/run.sh}"
NOBIOS=${NOBIOS:-build/nobios}
GUESTS=${GUESTS:-$BUILD/guests}
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
# The kind of host, as tests/boot/host-limits names them.
host_kind() {
	if [ "${NOBIOS_TEST_HOST:-}" = svm ]; then echo svm
	elif ! have_kvm; then echo native
	elif [ -e /sys/module/kvm_pvm ]; then echo kvm_pvm
	elif grep -qw vmx /proc/cpuinfo; then echo vmx
	else echo svm-hw
	fi
}
HOST_KIND=${HOST_KIND:-$(host_kind)}
# Hosts where guest code runs in hardware (VMX/SVM, or the SVM test host's
# emulated SVM): a Linux boot to userspace takes seconds, not minutes.
hw_virt_host() { [ "$HOST_KIND" = svm ] || [ "$HOST_KIND" = vmx ] || [ "$HOST_KIND" = svm-hw ]; }

# The bug tests/boot/known-bugs lists for test $1, or nothing.
known_bug() {
	awk -v t="$1" '!/^#/ && $1 == t { $1 = ""; sub(/^ +/, ""); print "issue " $0; exit }' \
		"$LIB_DIR/known-bugs"
}
# An entry whose bug reads "intermittent:WORDS[,WORDS...] ..." (- for spaces)
# is a failure seen only sometimes: a pass is a PASS, and only a failure whose
# message holds one of the WORDS is a KNOWN-BUG; any other failure stays a FAIL.
known_intermittent() { # BUG -> WORDS (one line per comma-separated alternative), or nothing
	case $1 in *" intermittent:"*) local w=${1#* intermittent:}; w=${w%% *}; w=${w//-/ }; echo "${w//,/$'\n'}" ;; esac
}
t_pass() {
	local bug; bug=$(known_bug "$1")
	if [ -n "$bug" ] && [ -z "$(known_intermittent "$bug")" ]; then
		echo "FAIL [$HOST_KIND] $1: passes, but tests/boot/known-bugs lists it ($bug): remove the entry"
		echo "fail [$HOST_KIND] $1" >> "$RESULTS"
		return
	fi
	echo "PASS [$HOST_KIND] $1"; echo "pass [$HOST_KIND] $1" >> "$RESULTS"
}
t_fail() {
	local bug words w hit=0; bug=$(known_bug "$1"); words=$(known_intermittent "$bug")
	while IFS= read -r w; do [ -n "$w" ] && [[ $2 == *"$w"* ]] && hit=1; done <<< "$words"
	if [ -n "$bug" ] && { [ -z "$words" ] || [ $hit = 1 ]; }; then
		echo "KNOWN-BUG [$HOST_KIND] $1: $2; $bug"
		echo "known-bug [$HOST_KIND] $1" >> "$RESULTS"
		return
	fi
	echo "FAIL [$HOST_KIND] $1: $2"; echo "fail [$HOST_KIND] $1" >> "$RESULTS"
}
t_skip() { echo "SKIPPED [$HOST_KIND] $1: $2"; echo "skip [$HOST_KIND] $1" >> "$RESULTS"; }

# need_kvm NAME...: returns 1 (after recording SKIPPED) when there is no KVM.
need_kvm() {
	have_kvm && return 0
	for n in "$@"; do
		t_skip "$n" "no usable /dev/kvm on this machine (the SVM test host pass runs it)"
	done
	return 1
}

# runs_here NAME...: returns 1 (after recording SKIPPED with the reason) when
# tests/boot/host-limits lists any of the named tests for this host kind.
runs_here() {
	local n why limited=0
	for n in "$@"; do
		why=$(awk -v h="$HOST_KIND" -v t="$n" '!/^#/ && $1 == h && $2 == t {
			$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$LIB_DIR/host-limits")
		[ -n "$why" ] && limited=1 && break
	done
	[ $limited = 0 ] && return 0
	for n in "$@"; do t_skip "$n" "not on this host ($HOST_KIND): $why"; done
	return 1
}
need_corpus() {
	[ -f "$CORPUS/SHA256SUMS" ] && return 0
	for n in "$@"; do t_skip "$n" "corpus not built (make corpus)"; done
	return 1
}

# run_nobios SECS ARGS...: run with a hard time limit, no stdin.
run_nobios() {
	local secs=$1; shift
	OUT=$(timeout -k 5 "$secs" "$NOBIOS" "$@" </dev/null 2>&1); RC=$?
}

# expect NAME COND-DESC: pass if the last command succeeded, else fail with output tail.
check() {
	local name=$1; shift
	if "$@"; then t_pass "$name"; return; fi
	# A guest kernel's own report of why it died is rarely in the last lines.
	local oops; oops=$(printf '%s\n' "$OUT" | grep -m4 -E 'Kernel panic|BUG: |Oops|general protection|RIP: ' | tr '\n' '|')
	# nobios's own word that the guest died or hung (its register dump
	# follows, so it is rarely in the tail either), and where each vCPU was;
	# tests/run.sh reads "guest failed:"
	local died rips
	died=$(printf '%s\n' "$OUT" | grep -m1 -E '^nobios: .*(triple fault \(KVM_EXIT_SHUTDOWN\)|the guest kernel panicked|guest still running after --timeout)')
	[ -n "$died" ] && rips=$(printf '%s\n' "$OUT" | grep -m8 -E '^nobios: vCPU [0-9]+ \(APIC ID|^RIP=' | tr '\n' '|')
	t_fail "$name" "rc=$RC; ${died:+guest failed: $died; }${rips:+dump: $rips }${oops:+guest: $oops }output tail: $(printf '%s' "$OUT" | tail -5 | tr '\n' '|')"
}
has() { printf '%s' "$OUT" | grep -qF -- "$1"; }
