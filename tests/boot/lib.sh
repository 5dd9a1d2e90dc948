# tests/boot/lib.sh - helpers for boot tests (sourced).
#   t_pass NAME | t_fail NAME WHY | t_skip NAME WHY
#   need_kvm NAME...      skip (loudly) the named tests when /dev/kvm is unusable
#   need_corpus NAME...   skip when the corpus is missing
#   run_nobios SECS ARGS... run nobios with a time limit; sets OUT (stdout+stderr) and RC
: "${RESULTS:?run through tests/run.sh}"
NOBIOS=${NOBIOS:-build/nobios}
GUESTS=${GUESTS:-$BUILD/guests}

t_pass() { echo "PASS $1"; echo "pass $1" >> "$RESULTS"; }
t_fail() { echo "FAIL $1: $2"; echo "fail $1" >> "$RESULTS"; }
t_skip() { echo "SKIPPED $1: $2"; echo "skip $1" >> "$RESULTS"; }

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
# need_kvm NAME...: returns 1 (after recording SKIPPED) when there is no KVM.
need_kvm() {
	have_kvm && return 0
	for n in "$@"; do t_skip "$n" "no usable /dev/kvm on this machine"; done
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
	if "$@"; then t_pass "$name"; else t_fail "$name" "rc=$RC; output tail: $(printf '%s' "$OUT" | tail -5 | tr '\n' '|')"; fi
}
has() { printf '%s' "$OUT" | grep -qF -- "$1"; }
