#!/bin/sh
# bench/svm.sh [RUNS] - the SVM case: nobios against QEMU inside the SVM test
# host (tests/svm/run: QEMU TCG emulating AMD SVM with nested paging, a real
# kvm_amd inside), so the figures show hardware-virtualization semantics on
# any machine.  Cases: the trivial guest against the raw-KVM floor,
# Debian's kernel to userspace by bzImage and by PVH against QEMU microvm,
# and several vCPUs (start-up cost per vCPU; userspace with 1 and 4 vCPUs).
# Everything runs in one test host, interleaved, medians and ratios.  TCG is
# slow and these machines are shared: compare ratios, not seconds.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-${RUNS:-3}}
exec tests/svm/run --timeout 7200 -- python3 bench/run.py --runs "$RUNS" \
	--cases "${SVM_CASES:-trivial,userspace,smp}" --timeout 400
