#!/bin/sh
# bench/emul.sh [RUNS] - instruction completion (issue 6): completions per
# second and time per completion, with the unicorn engine reused (nobios's
# way) and created per completion (NOBIOS_EMUL_FRESH=1, the baseline):
#  1. the engine alone on a buffer-backed guest (no KVM): build/bench/emul_engine;
#  2. the SSE guest (tests/guests/emul/sse_guest.c) under KVM, RUNS times
#     each way, interleaved: wall time and nobios's -v completion line.
# Goal (issue 6): under 100 us per completion on this host.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
RUNS=${1:-3}
echo "== engine alone (no KVM)"
"$BUILD/bench/emul_engine" 20000 200 || exit 1
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIPPED: no usable /dev/kvm"; exit 0; }
echo "== SSE guest under KVM ($RUNS runs each, interleaved); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
	for mode in reused fresh; do
		fresh=0; [ "$mode" = fresh ] && fresh=1
		t0=$(date +%s.%N)
		out=$(NOBIOS_EMUL_FRESH=$fresh "$BUILD/nobios" run --kernel "$BUILD/guests/sse-guest.elf" \
			-v --timeout 300 </dev/null 2>&1)
		t1=$(date +%s.%N)
		line=$(printf '%s\n' "$out" | grep '^nobios: completions:')
		n=$(printf '%s' "$line" | sed -n 's/^nobios: completions: \([0-9]*\) in \([0-9.]*\) ms (\([0-9.]*\) us each.*/\1 \2 \3/p')
		set -- $n
		printf '%-7s run %d: wall %6.3f s, %s completions in %s ms = %s us each, %.0f completions/s\n' \
			"$mode" "$i" "$(echo "$t1 - $t0" | bc)" "$1" "$2" "$3" "$(echo "$1 * 1000 / $2" | bc -l)"
		printf '%s\n' "$line" | sed -n 's/.*us each: \(.*\)), .*/          (\1)/p'
	done
done
