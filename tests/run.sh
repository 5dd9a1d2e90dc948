#!/bin/bash
# tests/run.sh [slow] - run unit tests and boot tests; print one summary line
# "N passed, N failed, N skipped".  Boot tests are tests/boot/*.sh (slow
# ones tests/boot/slow/*.sh); each reports with t_pass/t_fail/t_skip from
# tests/boot/lib.sh.  Exit 1 if anything failed.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build} CORPUS=${CORPUS:-build/corpus}
export NOBIOS=$PWD/$BUILD/nobios
RESULTS=$(mktemp); export RESULTS
trap 'rm -f "$RESULTS"' EXIT
mode=${1:-all}

if [ "$mode" != slow ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1); rc=$?
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0}; f=${f:-0}
		if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
		echo "unit $name: $p passed, $f failed"
		[ "$f" != 0 ] && printf '%s\n' "$out" | grep -E 'FAIL|ERROR|error|Assert' | head -20
		for _ in $(seq 1 "$p"); do echo pass >> "$RESULTS"; done
		for _ in $(seq 1 "$f"); do echo fail >> "$RESULTS"; done
	done
	# Fuzz: replay the seeds and known crashers, then a fixed-seed run of
	# new inputs (deterministic for a given binary).
	if [ -x build-fuzz/fuzz_load ]; then
		if out=$(build-fuzz/fuzz_load -seed=1 -runs=${FUZZ_RUNS:-30000} -max_len=262144 \
			-rss_limit_mb=4096 build-fuzz/seeds tests/fuzz/crashes 2>&1); then
			echo "fuzz fuzz_load: passed ($(printf '%s\n' "$out" | grep -o 'Done [0-9]* runs.*' | tail -1))"
			echo pass >> "$RESULTS"
		else
			echo "FAIL fuzz fuzz_load:"; printf '%s\n' "$out" | grep -A15 -E 'ERROR|SUMMARY|runtime error' | head -40
			echo fail >> "$RESULTS"
		fi
	else
		echo "SKIPPED fuzz: build-fuzz/fuzz_load not built (make fuzz-build; needs clang)"
		echo skip >> "$RESULTS"
	fi
	scripts=(tests/boot/*.sh)
else
	scripts=(tests/boot/slow/*.sh)
fi

for s in "${scripts[@]}"; do
	[ -f "$s" ] || continue
	[ "$(basename "$s")" = lib.sh ] && continue
	echo "== $s"
	bash "$s" || { echo "FAIL $s: script exited $?"; echo fail >> "$RESULTS"; }
done

p=$(grep -c '^pass' "$RESULTS"); f=$(grep -c '^fail' "$RESULTS"); k=$(grep -c '^skip' "$RESULTS")
echo
[ "$k" != 0 ] && echo "SKIPPED: $k tests were skipped (see SKIPPED lines above)"
echo "$p passed, $f failed, $k skipped"
[ "$f" = 0 ]
