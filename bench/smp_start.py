#!/usr/bin/env python3
"""bench/smp_start.py [RUNS] [NAME=NOBIOS...] - start-up cost per extra vCPU alone: the trivial part of
`bench/run.py --cases smp` (the trivial guest with --cpus 1, 2, 4, 8, 16, --timeline's
"vCPUs created" plus "AP threads started"), with as many interleaved runs as asked and
without the Linux boots, so a slope worth quoting fits in a few minutes.  Prints each
count's median and sorted samples, and the least-squares slope of the medians over all
counts and over 2-16 (the first VM of a run is often an outlier).  NAME=NOBIOS
arguments compare builds in the same run (each pass runs every build at every count in
turn, so machine noise falls on all alike); without them, $BUILD/nobios.  In the SVM
test host:
  tests/svm/run -- python3 bench/smp_start.py 5
  tests/svm/run -- python3 bench/smp_start.py 7 before=build/nobios.base after=build/nobios"""
import importlib.util, os, subprocess, sys
spec = importlib.util.spec_from_file_location("run", os.path.join(os.path.dirname(__file__), "run.py"))
run = importlib.util.module_from_spec(spec); spec.loader.exec_module(run)
counts = (1, 2, 4, 8, 16)
builds = dict(a.split("=", 1) for a in sys.argv[2:]) or {"nobios": run.NOBIOS}
cost = {(b, n): [] for b in builds for n in counts}
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
    for n in counts:
        for b, exe in builds.items():
            p = subprocess.run([exe, "run", os.path.join(run.BUILD, "bench", "trivial.elf"), "--cpus", str(n), "--timeline=json"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
            tl = run.nobios_timeline(p.stderr)
            c = run.detail_ms(tl, "vCPUs created")
            th = run.detail_ms(tl, "AP threads started") if n > 1 else 0.0
            if c is None or th is None:
                print(f"{b} --cpus {n}: status {p.returncode}, no timeline"); continue
            cost[b, n].append(c + th)
for b in builds:
    for n in (n for n in counts if cost[b, n]):
        print(f"{b} {n:3d} vCPUs: creating + starting median {run.med(cost[b, n]):.3f} ms of {len(cost[b, n])}: "
              + " ".join(f"{x:.1f}" for x in sorted(cost[b, n])))
    pts = [(n, run.med(cost[b, n])) for n in counts if cost[b, n]]
    a, s2 = run.slope(pts), run.slope(pts[1:])
    if a is None or s2 is None:
        print(f"{b}: too few counts with a timeline for a slope"); continue
    print(f"{b} slope, all counts: {a * 1000:.0f} us per vCPU; 2-16: {s2 * 1000:.0f} us")
