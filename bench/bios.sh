#!/bin/bash
# bench/bios.sh [RUNS] [CASES] - disk images booted by nobios's pseudo-BIOS
# versus QEMU -M pc with SeaBIOS, same image, same run: seconds from start
# to each console milestone (median of RUNS, default 5), and nobios's exit
# counters (-v).  CASES (comma-separated, default "syslinux,grub"):
#   syslinux  the corpus's syslinux disk; the kernel's first line is its
#             16-bit setup code's "Probing EDD" (the image's APPEND line has
#             no earlyprintk)
#   grub      GRUB 2 (make grub-images: grub-bench.img, its terminal on
#             COM1 so both monitors show its script's lines on the serial
#             console): its first line ("GRUB loading.", INT 10h, which
#             both nobios and Debian's SeaBIOS (sercon) put on the serial
#             console), its embedded script's echo, then Debian's kernel
#             by GRUB's 32-bit `linux` path to `Run /init`
# A milestone a monitor never reaches (e.g. when KVM's emulator stops the
# guest on kvm_pvm) prints "-".  In the SVM test host:
# `tests/svm/run -- bash bench/bios.sh 3`.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-$BUILD/corpus}
GRUB_IMAGES=${GRUB_IMAGES:-$BUILD/grub}
RUNS=${1:-5}
CASES=${2:-${BIOS_CASES:-syslinux,grub}}
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIPPED: no usable /dev/kvm"; exit 0; }
exec python3 -u - "$BUILD/nobios" "$CORPUS/syslinux-linux-hdd.img" "$GRUB_IMAGES/grub-bench.img" \
	"$RUNS" "$CASES" <<'PY'
import os, re, signal, statistics, subprocess, sys, tempfile, time
nobios, syslinux_img, grub_img, runs, cases = sys.argv[1:6]
runs = int(runs)
# kvm_pvm refuses MSR 0x10a, on which QEMU's plain -cpu host asserts; an
# SVM/VMX host's KVM refuses "-arch-capabilities" (as bench/run.py)
QCPU = "host,cx16=off,-arch-capabilities" if os.path.exists("/sys/module/kvm_pvm") else "host"
QEMU = ["qemu-system-x86_64", "-M", "pc", "-enable-kvm", "-cpu", QCPU, "-nodefaults",
        "-nographic", "-no-reboot",
        "-serial", "stdio", "-monitor", "none"]
CASES = {
    "syslinux": dict(
        img=syslinux_img, mem="256", timeout=120.0, ratio="SYSLINUX banner",
        milestones=[("SYSLINUX banner", rb"SYSLINUX 6\.04"),
                    ("CORPUS-SYSLINUX-CFG", rb"CORPUS-SYSLINUX-CFG"),
                    ("Loading /vmlinuz... ok", rb"Loading /vmlinuz\.\.\. ok"),
                    ("kernel's first line",
                     rb"Probing EDD|early console|Decompressing|Linux version")]),
    "grub": dict(
        img=grub_img, mem="512", timeout=400.0, ratio="GRUB's first line",
        milestones=[("GRUB's first line", rb"GRUB loading"),
                    ("GRUB's script (echo)", rb"NOBIOS-GRUB-CFG bench"),
                    ("Linux version", rb"Linux version"),
                    ("Run /init", rb"Run /init as init process")]),
}

def one(cmd, milestones, timeout):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    os.set_blocking(p.stdout.fileno(), False)
    buf, seen = b"", {}
    while time.monotonic() - t0 < timeout and len(seen) < len(milestones):
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            for name, rx in milestones:
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

for case in cases.split(","):
    c = CASES[case]
    img, ms = c["img"], c["milestones"]
    if not os.path.isfile(img):
        print(f"{case}: SKIPPED: {img} missing ({'make corpus' if case == 'syslinux' else 'make grub-images'})")
        continue
    # QEMU 7.2's snapshot=on puts its overlay in /var/tmp whatever $TMPDIR
    # says, and that is read-only in the SVM test host: QEMU gets a copy of
    # the image in a temporary directory instead (made before the clock
    # starts; nothing these guests run writes to the disk)
    tmp = tempfile.mkdtemp()
    qimg = os.path.join(tmp, os.path.basename(img))
    subprocess.run(["cp", "--sparse=always", img, qimg], check=True)
    cmds = {
        "nobios pseudo-BIOS": [nobios, "run", "--disk", img + ",snapshot", "-m", c["mem"] + "M",
                               "--timeout", str(int(c["timeout"]))],
        "qemu -M pc + SeaBIOS": QEMU + ["-m", c["mem"], "-drive", f"file={qimg},format=raw"],
    }
    # interleaved, so that a change in the machine's load hits both alike
    res = {n: [] for n in cmds}
    for i in range(runs):
        for n, cmd in cmds.items():
            seen, out = one(cmd, ms, c["timeout"])
            res[n].append(seen)
            if not seen:  # say why: the monitor's last words
                print(f"  [{n}: no milestone; output ends: {out[-300:]!r}]")
            print(f"  [{case} run {i + 1}, {n}: " +
                  ", ".join(f"{m} {t:.2f} s" for m, t in res[n][-1].items()) + "]")
    print(f"{os.path.basename(img)}, {runs} runs, median seconds from start:")
    print(f"  {'milestone':26s}" + "".join(f"{n:>24s}" for n in cmds))
    for m, _ in ms:
        row = []
        for n in cmds:
            v = [r[m] for r in res[n] if m in r]
            row.append(f"{statistics.median(v):24.3f}" if len(v) == runs else f"{'-':>24s}")
        print(f"  {m:26s}" + "".join(row))
    a, q = (res[n] for n in cmds)
    for m, _ in ms:
        if m != c["ratio"] and m != ms[-1][0]:
            continue
        if all(m in r for r in a) and all(m in r for r in q):
            ma, mq = statistics.median(r[m] for r in a), statistics.median(r[m] for r in q)
            print(f"  to {m}: nobios {mq / ma:.1f}x faster than QEMU + SeaBIOS")
    # Counters of one more nobios run, stopped (by its own --timeout, so it
    # reports them) just after the last milestone.
    k = ms[-1][0]
    lim = 1 + int(1.2 * statistics.median(r[k] for r in a)) if all(k in r for r in a) \
        else int(c["timeout"])
    out = subprocess.run([nobios, "run", "-v", "--disk", img + ",snapshot", "-m", c["mem"] + "M",
                          "--timeout", str(lim)],
                         stdin=subprocess.DEVNULL, capture_output=True).stderr.decode(errors="replace")
    subprocess.run(["rm", "-rf", tmp])
    calls = out.count("nobios: bios: INT ")
    ex = [l for l in out.splitlines() if l.startswith("nobios: exits:")]
    print(f"  nobios counters ({lim} s run): {calls} BIOS calls served; "
          f"{ex[0][8:] if ex else 'no exit counters'}")
PY
