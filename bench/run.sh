#!/bin/sh
# bench/run.sh - `make bench`: every benchmark, side by side with QEMU, in one
# run.  RUNS (default 3) sets the repetitions; CASES the run.py cases.
# Takes ~20 minutes on an emulating host (QEMU's in-guest bzImage
# decompression alone is minutes); `bench/run.py --cases trivial` is quick.
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
python3 bench/run.py --runs "$RUNS" --cases "${CASES:-trivial,linux,pvh,tboot}" --timeout 400
bash bench/bios.sh "$RUNS"
bash bench/emul.sh "$RUNS"
# The same comparisons on AMD SVM semantics, in the SVM test host.
sh bench/svm.sh "$RUNS"
