#!/bin/bash
# bench/bios.sh [RUNS] - the syslinux disk image from the corpus booted by
# nobios's pseudo-BIOS versus QEMU -M pc with SeaBIOS, same image, same run:
# seconds from start to each console milestone (median of RUNS, default 5),
# and nobios's exit counters (-v).  The kernel's first line is its 16-bit
# setup code's "Probing EDD" (the image's APPEND line has no earlyprintk).  A milestone a monitor never reaches
# (e.g. when KVM's emulator stops the guest on this host) prints "-".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
RUNS=${1:-5}
IMG=$CORPUS/syslinux-linux-hdd.img
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIPPED: no usable /dev/kvm"; exit 0; }
[ -f "$IMG" ] || { echo "SKIPPED: $IMG missing (make corpus)"; exit 0; }
exec python3 - "$BUILD/nobios" "$IMG" "$RUNS" <<'PY'
import re, statistics, subprocess, sys, time, os, signal
nobios, img, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
MILESTONES = [("SYSLINUX banner", rb"SYSLINUX 6\.04"),
              ("CORPUS-SYSLINUX-CFG", rb"CORPUS-SYSLINUX-CFG"),
              ("Loading /vmlinuz... ok", rb"Loading /vmlinuz\.\.\. ok"),
              ("kernel's first line", rb"Probing EDD|early console|Decompressing|Linux version")]
CMDS = {
    "nobios pseudo-BIOS": [nobios, "run", "--disk", img + ",snapshot", "--timeout", "120"],
    "qemu -M pc + SeaBIOS": ["qemu-system-x86_64", "-M", "pc", "-enable-kvm", "-cpu",
                             "host,cx16=off,-arch-capabilities", "-m", "256", "-nodefaults",
                             "-nographic", "-no-reboot", "-serial", "stdio", "-monitor", "none",
                             "-drive", f"file={img},format=raw,snapshot=on"],
}

def one(cmd, timeout=120.0):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    os.set_blocking(p.stdout.fileno(), False)
    buf, seen = b"", {}
    while time.monotonic() - t0 < timeout and len(seen) < len(MILESTONES):
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            for name, rx in MILESTONES:
                if name not in seen and re.search(rx, buf):
                    seen[name] = time.monotonic() - t0
        elif p.poll() is not None:
            break
        else:
            time.sleep(0.002)
        # a guest that stopped with an emulation failure never gets further
        if b"emulation fail" in buf or b"internal error" in buf:
            break
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    return seen, buf

res = {}
for name, cmd in CMDS.items():
    res[name] = [one(cmd)[0] for _ in range(runs)]
print(f"syslinux-linux-hdd.img, {runs} runs, median seconds from start:")
print(f"  {'milestone':26s}" + "".join(f"{n:>24s}" for n in CMDS))
for m, _ in MILESTONES:
    row = []
    for n in CMDS:
        v = [r[m] for r in res[n] if m in r]
        row.append(f"{statistics.median(v):24.3f}" if len(v) == runs else f"{'-':>24s}")
    print(f"  {m:26s}" + "".join(row))
b = "SYSLINUX banner"
a, q = (res[n] for n in CMDS)
if all(b in r for r in a) and all(b in r for r in q):
    ma, mq = statistics.median(r[b] for r in a), statistics.median(r[b] for r in q)
    print(f"  to the banner: nobios {mq / ma:.1f}x faster than QEMU + SeaBIOS")
# Counters of one more nobios run, stopped (by its own --timeout, so it
# reports them) just after the kernel's first line.
k = "kernel's first line"
lim = 1 + int(1.2 * statistics.median(r[k] for r in a)) if all(k in r for r in a) else 120
out = subprocess.run([nobios, "run", "-v", "--disk", img + ",snapshot", "--timeout", str(lim)],
                     stdin=subprocess.DEVNULL, capture_output=True).stderr.decode(errors="replace")
calls = out.count("nobios: bios: INT ")
ex = [l for l in out.splitlines() if l.startswith("nobios: exits:")]
print(f"  nobios counters ({lim} s run): {calls} BIOS calls served; "
      f"{ex[0][8:] if ex else 'no exit counters'}")
PY
