#!/usr/bin/env python3
"""bench/smp_start.py [RUNS] - start-up cost per extra vCPU alone: the trivial part of
`bench/run.py --cases smp` (the trivial guest with --cpus 1, 2, 4, 8, 16, --timeline's
"vCPUs created" plus "AP threads started"), with as many interleaved runs as asked and
without the Linux boots, so a slope worth quoting fits in a few minutes.  Prints each
count's median and sorted samples, and the least-squares slope of the medians over all
counts and over 2-16 (the first VM of a run is often an outlier).  In the SVM test host:
  tests/svm/run -- python3 bench/smp_start.py 5"""
import importlib.util, os, subprocess, sys
spec = importlib.util.spec_from_file_location("run", os.path.join(os.path.dirname(__file__), "run.py"))
run = importlib.util.module_from_spec(spec); spec.loader.exec_module(run)
counts = (1, 2, 4, 8, 16)
cost = {n: [] for n in counts}
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
    for n in counts:
        p = subprocess.run([run.NOBIOS, "run", os.path.join(run.BUILD, "bench", "trivial.elf"), "--cpus", str(n), "--timeline=json"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        tl = run.nobios_timeline(p.stderr)
        c = run.detail_ms(tl, "vCPUs created")
        th = run.detail_ms(tl, "AP threads started") if n > 1 else 0.0
        if c is None or th is None:
            print(f"--cpus {n}: status {p.returncode}, no timeline"); continue
        cost[n].append(c + th)
for n in (n for n in counts if cost[n]):
    print(f"{n:3d} vCPUs: creating + starting median {run.med(cost[n]):.3f} ms of {len(cost[n])}: "
          + " ".join(f"{x:.1f}" for x in sorted(cost[n])))
pts = [(n, run.med(cost[n])) for n in counts if cost[n]]
a, b = run.slope(pts), run.slope(pts[1:])
if a is None or b is None:
    sys.exit("too few counts with a timeline for a slope")
print(f"slope, all counts: {a * 1000:.0f} us per vCPU; 2-16: {b * 1000:.0f} us")
