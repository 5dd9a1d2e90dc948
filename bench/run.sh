#!/bin/sh
# bench/run.sh [ARGS] - `make bench`: the quick cases by default; see bench/run.py --help.
cd "$(dirname "$0")/.." && exec python3 bench/run.py ${BENCH_ARGS:-"$@"}
