#!/bin/bash
# tests/run.sh [all|unit|boot|svm|slow] - run the tests; print one summary
# line "N passed, N failed, N skipped".  Exit 1 if anything failed.
#
#   all   (make check) unit tests and fuzz replay on this machine; the boot
#         tests on this machine (their KVM tests SKIPPED loudly where there
#         is no /dev/kvm), then the boot tests again inside the SVM test host
#         (tests/svm/run), so every change is also tested on hardware-
#         virtualization semantics.
#   unit  unit tests and fuzz replay only
#   boot  boot tests (tests/boot/*.sh) on this host only
#   svm [FILE...]  boot tests (those scripts) in the SVM test host only (make check-svm)
#   slow  tests/boot/slow/*.sh on this host (make check-slow)
#   scripts FILE...  these boot test scripts on this host (the SVM pass runs
#         each script this way in a test host of its own)
# Boot tests report with t_pass/t_fail/t_skip from tests/boot/lib.sh; each
# result names its host.  SVM_TIMEOUT (seconds) limits the SVM pass.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build} CORPUS=${CORPUS:-build/corpus}
export NOBIOS=$PWD/$BUILD/nobios
# RESULTS may be handed in (the SVM pass writes its results into the tree).
if [ -z "${RESULTS:-}" ]; then
	RESULTS=$(mktemp); trap 'rm -f "$RESULTS"' EXIT
fi
export RESULTS
mode=${1:-all}

run_unit() {
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
		for _ in $(seq 1 "$p"); do echo "pass unit $name" >> "$RESULTS"; done
		for _ in $(seq 1 "$f"); do echo "fail unit $name" >> "$RESULTS"; done
	done
	# Fuzz: per target (tests/fuzz/targets), replay the seeds and known
	# crashers, then a fixed-seed batch of new inputs (deterministic for a
	# given binary).
	local t opts
	for t in $(awk '!/^#/ && NF && $1 != "common" { print $1 }' tests/fuzz/targets); do
		if [ ! -x "build-fuzz/$t" ]; then
			echo "SKIPPED fuzz $t: build-fuzz/$t not built (make fuzz-build; needs clang)"
			echo "skip fuzz $t" >> "$RESULTS"
			continue
		fi
		opts=$(awk -v t="$t" '$1 == "common" || $1 == t { $1 = ""; printf "%s ", $0 }' tests/fuzz/targets)
		mkdir -p "build-fuzz/seeds/$t" "tests/fuzz/crashes/$t"
		# shellcheck disable=SC2086
		if out=$("build-fuzz/$t" -seed=1 -runs="${FUZZ_RUNS:-2000}" $opts \
			-artifact_prefix="build-fuzz/$t-" "build-fuzz/seeds/$t" "tests/fuzz/crashes/$t" 2>&1); then
			echo "fuzz $t: passed ($(printf '%s\n' "$out" | grep -o 'Done [0-9]* runs.*' | tail -1))"
			echo "pass fuzz $t" >> "$RESULTS"
		else
			echo "FAIL fuzz $t:"; printf '%s\n' "$out" | grep -A15 -E 'ERROR|SUMMARY|runtime error' | head -40
			echo "fail fuzz $t" >> "$RESULTS"
		fi
	done
}

run_scripts_one() { # FILE
	echo "== $1"
	local t0=$SECONDS
	bash "$1" || { echo "FAIL $1: script exited $?"; echo "fail script $1" >> "$RESULTS"; }
	echo "   ($((SECONDS - t0)) s)"
}

run_scripts() { # DIR
	for s in "$1"/*.sh; do
		[ -f "$s" ] || continue
		[ "$(basename "$s")" = lib.sh ] && continue
		run_scripts_one "$s"
	done
}

# The boot tests once more, inside the SVM test host; its results join ours.
# Each script gets a test host of its own (~8 s to boot): a test host that
# wedges or dies (status 124/125 from tests/svm/run; QEMU's TCG has stalled
# on this kind of machine, loaded or not) costs that script a retry, said
# loudly, never the rest of the pass: up to two, since one clean-clone run
# saw the same script's test host wedge twice in a row (and the script pass
# alone right after).  The results of a failed attempt are dropped; a third
# failure is a FAIL.
# A guest crash is the other thing nested TCG (QEMU 7.2) does now and then:
# a guest that boots in every other run triple-faults or panics, with state
# no CPU of its own could hold (on 2026-12-07 Linux ran with the test host
# kernel's own GS base; issue 9, README "Guest crashes in the SVM test
# host"), or hangs until its --timeout (once, the same day).  A script whose
# every FAIL is such a crash or hang (lib.sh's "guest failed:") runs once
# more in a new test host, said loudly and counted in the summary; its
# second run's results are the ones that count, so one that comes back is a
# FAIL.  At most SVM_CRASH_RETRIES (3) scripts a pass.
# SVM_TIMEOUT bounds the whole pass, SVM_SCRIPT_TIMEOUT one script.
run_svm() {
	mkdir -p "$BUILD"
	echo "== SVM test host (tests/svm/run): boot tests on AMD SVM with nested paging"
	local t0=$SECONDS s inner rc attempt budget log crashes=0 fails crashed
	if ! tests/svm/run --build; then
		echo "FAIL SVM test host: it could not be built (see above)"
		echo "fail svm-test-host" >> "$RESULTS"
		return
	fi
	[ $# -gt 0 ] || set -- tests/boot/*.sh
	for s in "$@"; do
		[ "$(basename "$s")" = lib.sh ] && continue
		crashed=0
		for attempt in 1 2 3 4; do
			budget=$(( ${SVM_TIMEOUT:-4200} - (SECONDS - t0) ))
			if [ $budget -lt 60 ]; then
				echo "FAIL SVM test host: no time left for $s (SVM_TIMEOUT ${SVM_TIMEOUT:-4200} s)"
				echo "fail svm-test-host $s" >> "$RESULTS"
				break
			fi
			[ $budget -gt "${SVM_SCRIPT_TIMEOUT:-600}" ] && budget=${SVM_SCRIPT_TIMEOUT:-600}
			inner=$(mktemp "$PWD/$BUILD/svm-results.XXXXXX")
			log=$(mktemp "$PWD/$BUILD/svm-log.XXXXXX")
			tests/svm/run --timeout "$budget" -e RESULTS="$inner" -- tests/run.sh scripts "$s" |
				tee "$log"
			rc=${PIPESTATUS[0]}
			# 0: all passed; 1: some failed (in the results); else the host failed.
			if [ $rc = 1 ] && [ $crashed = 0 ] && [ $crashes -lt "${SVM_CRASH_RETRIES:-3}" ]; then
				fails=$(grep '^FAIL ' "$log")
				if [ -n "$fails" ] && ! printf '%s\n' "$fails" | grep -qv 'guest failed: '; then
					crashed=1; crashes=$((crashes + 1))
					echo "RETRY $s: every failure above is a guest crash or hang (see issue 9):" \
						"$(printf '%s\n' "$fails" | sed 's/^FAIL \[[^]]*\] \([^:]*\):.*guest failed: \(nobios: \)\{0,1\}\([^;]*\);.*/\1 (\3)/' | paste -sd';' - | sed 's/;/; /g')." \
						"Running $s again in a new test host; its results count."
					echo "retry $s $(printf '%s\n' "$fails" | sed 's/^FAIL \[[^]]*\] \([^:]*\):.*/\1/' | tr '\n' ',')" >> "$RESULTS"
					rm -f "$inner" "$log"
					continue
				fi
			fi
			rm -f "$log"
			if [ $rc = 0 ] || [ $rc = 1 ]; then
				cat "$inner" >> "$RESULTS"
				rm -f "$inner"
				break
			fi
			rm -f "$inner"
			if [ $attempt -lt $((3 + crashed)) ]; then
				echo "WARNING: the SVM test host failed (status $rc) during $s; running $s again in a new one"
			else
				echo "FAIL SVM test host: status $rc during $s, three times (see above)"
				echo "fail svm-test-host $s" >> "$RESULTS"
				break
			fi
		done
	done
	echo "   (SVM test host: $((SECONDS - t0)) s)"
}

case $mode in
all) run_unit; run_scripts tests/boot; run_svm ;;
unit) run_unit ;;
boot) run_scripts tests/boot ;;
scripts) shift; for s in "$@"; do run_scripts_one "$s"; done ;;
svm) shift; run_svm "$@" ;;
slow) run_scripts tests/boot/slow ;;
*) echo "usage: tests/run.sh [all|unit|boot|svm [FILE...]|slow|scripts FILE...]" >&2; exit 2 ;;
esac

p=$(grep -c '^pass' "$RESULTS"); f=$(grep -c '^fail' "$RESULTS"); k=$(grep -c '^skip' "$RESULTS")
echo
if [ "$mode" = all ] || [ "$mode" = svm ]; then
	# per host: "[svm] 120 passed, 0 failed, 1 skipped"
	awk '$2 ~ /^\[/ { n[$2 " " $1]++; h[$2] = 1 }
		END { for (k in h) printf "  %-10s %d passed, %d failed, %d skipped\n", k,
			n[k " pass"], n[k " fail"], n[k " skip"] }' "$RESULTS" | sort
fi
[ "$k" != 0 ] && echo "SKIPPED: $k tests were skipped (see SKIPPED lines above)"
b=$(grep -c '^known-bug' "$RESULTS")
[ "$b" != 0 ] && echo "KNOWN-BUG: $b tests failed on a bug tests/boot/known-bugs lists:" \
	"$(awk '$1 == "known-bug" { printf "%s%s %s", s, $3, $2; s = ", " }' "$RESULTS")"
r=$(grep -c '^retry' "$RESULTS")
[ "$r" != 0 ] && echo "RETRIED: $r SVM test host script(s) after a guest crash or hang (issue 9; their second runs counted):" \
	"$(awk '$1 == "retry" { sub(/,$/, "", $3); printf "%s%s (%s)", s, $2, $3; s = ", " }' "$RESULTS")"
echo "$p passed, $f failed, $k skipped$([ "$b" != 0 ] && echo ", $b known bugs")$([ "$r" != 0 ] && echo ", $r script(s) retried after a guest crash or hang")"
[ "$f" = 0 ]
