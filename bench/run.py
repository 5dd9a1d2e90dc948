#!/usr/bin/env python3
"""bench/run.py - time nobios against its peers, side by side, in one run.

Cases (each run interleaved with its peers, medians reported):
  exec     `nobios exec KERNEL -- echo MARK` to CMD's first output and to exit vs QEMU
           microvm booting the same kernel and the same initramfs (nobios's, saved with
           NOBIOS_EXEC_SAVE_INITRAMFS) to the same command; with the corpus's cloud
           kernel, and with build/exec-kernel's generic kernel and the host's / over
           virtio-9p (QEMU with the same share)
  trivial  a guest that exits at once: raw-KVM floor, nobios, QEMU microvm, QEMU pc
           (wall time and peak RSS)
  linux    Debian's bzImage to its `Linux version` console line: nobios default
           (host decompression), QEMU microvm -kernel bzImage, QEMU microvm -kernel
           vmlinux (PVH); KVM counters from nobios --timeline=json and QEMU's
           query-stats over QMP
  pvh      Debian's vmlinux through PVH to `Linux version`: nobios vs QEMU microvm/pc
  tboot    tboot (Multiboot 1) to `TBOOT: original e820 map`: nobios vs QEMU pc/microvm
  bios     syslinux disk image to `Loading /vmlinuz... ok` and to the kernel's first
           line: nobios pseudo-BIOS vs QEMU pc + SeaBIOS
  userspace Debian's kernel to the corpus initramfs's CORPUS-LINUX-OK: nobios bzImage
           and PVH vs QEMU microvm -kernel bzImage and -kernel vmlinux (PVH).  Meant
           for hosts where guest code runs in hardware (VMX/SVM, the SVM test host:
           bench/svm.sh); minutes per boot on kvm_pvm.
  smp      several vCPUs: start-up cost per extra vCPU (the trivial guest with
           --cpus 1, 2, 4, 8, 16: --timeline's "first guest instruction" and its
           "vCPUs created" time), then Debian's kernel to userspace with 1 and 4
           vCPUs, nobios against QEMU microvm -smp 1 and 4 (as `userspace`, meant
           for hardware-virtualization hosts and bench/svm.sh).

usage: bench/run.py [--runs N] [--cases trivial,linux,...] [--timeout SECS]
Environment: BUILD (default build), CORPUS (default build/corpus).
QEMU runs with -cpu host, and on kvm_pvm with -cpu host,cx16=off,-arch-capabilities:
that host's KVM refuses MSR 0x10a, which QEMU's plain `-cpu host` asserts on.
"""
import argparse, json, os, re, resource, select, signal, socket, statistics, subprocess, sys, tempfile, time

BUILD = os.environ.get("BUILD", "build")
CORPUS = os.environ.get("CORPUS", os.path.join(BUILD, "corpus"))
NOBIOS = os.path.join(BUILD, "nobios")
QEMU = "qemu-system-x86_64"
QCPU = "host,cx16=off,-arch-capabilities" if os.path.exists("/sys/module/kvm_pvm") else "host"
LINUX_CMDLINE = "earlyprintk=serial,ttyS0 console=ttyS0 noxsave panic=-1"
USERSPACE_CMDLINE = "console=ttyS0 panic=-1"


def qemu(machine, *extra, mem="256"):
    return [QEMU, "-M", machine, "-enable-kvm", "-cpu", QCPU, "-m", mem, "-nodefaults",
            "-nographic", "-no-reboot", "-serial", "stdio", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", *extra]


def run_to_exit(cmd, timeout):
    """Wall time and peak RSS (KiB) of a command that exits by itself."""
    # Peak RSS through /usr/bin/time: a child forked from Python would
    # count the interpreter's pages in its high-water mark.
    with tempfile.NamedTemporaryFile("r") as tf:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", tf.name, *cmd],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=timeout)
        dt = time.monotonic() - t0
        try:
            rss = int(tf.read().split()[-1])
        except (ValueError, IndexError):
            rss = None
    return dt, rss, p.returncode


def run_to_line(cmd, pattern, timeout, on_match=None, graceful=False):
    """Seconds until `pattern` appears on the guest console, then stop it:
    SIGTERM first when graceful (nobios then prints its timeline and KVM
    counters), SIGKILL otherwise or after 10 s."""
    rx = re.compile(pattern.encode())
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    buf, err, found, extra = b"", b"", None, None

    def pump(wait):
        nonlocal buf, err
        r, _, _ = select.select([p.stdout, p.stderr], [], [], wait)
        got = False
        for f in r:
            chunk = os.read(f.fileno(), 65536)
            got = got or bool(chunk)
            if f is p.stdout:
                buf += chunk
            else:
                err += chunk
        return got

    try:
        while time.monotonic() - t0 < timeout:
            got = pump(0.2)
            if rx.search(buf):
                found = time.monotonic() - t0
                break
            if not got and p.poll() is not None:
                break
        if found and on_match:
            extra = on_match()
        if graceful and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            t1 = time.monotonic()
            while time.monotonic() - t1 < 10 and (p.poll() is None or pump(0)):
                pump(0.2)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    return found, extra, buf, err


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "   n/a  " if x is None else (f"{x*1000:8.1f} ms" if x < 10 else f"{x:8.2f} s ")


def report(title, rows, base=None):
    print(f"\n== {title}")
    basev = med(rows[base]["t"]) if base else None
    for name, r in rows.items():
        t = med(r["t"])
        line = f"  {name:34s} median {fmt_s(t)}"
        if "rss" in r and r["rss"]:
            line += f"  peak RSS {med(r['rss'])/1024:7.1f} MiB"
        if basev and t:
            line += f"  {t/basev:6.2f}x {base}"
        if r.get("note"):
            line += f"  ({r['note']})"
        print(line, flush=True)


def case_trivial(args):
    guest = os.path.join(BUILD, "bench", "trivial.elf")
    cmds = {
        "floor (raw KVM, bench/floor.c)": [os.path.join(BUILD, "bench", "floor")],
        "nobios": [NOBIOS, "run", guest],
        "qemu -M microvm": qemu("microvm", "-kernel", guest),
        "qemu -M pc": qemu("pc", "-kernel", guest),
    }
    rows = {k: {"t": [], "rss": []} for k in cmds}
    for _ in range(args.runs):
        for k, c in cmds.items():
            dt, rss, rc = run_to_exit(c, args.timeout)
            if rc != 1:
                rows[k]["note"] = f"exit status {rc}, expected 1"
                continue
            rows[k]["t"].append(dt)
            rows[k]["rss"].append(rss)
    report("trivial guest: start, exit through port 0xF4 (wall time, peak RSS)", rows,
           base="floor (raw KVM, bench/floor.c)")
    return rows


def nobios_counters(err):
    """KVM counters from nobios --timeline=json (a JSON object on stderr)."""
    for line in err.decode(errors="replace").splitlines()[::-1]:
        line = line.strip()
        if line.startswith("{"):
            try:
                j = json.loads(line)
            except ValueError:
                continue
            stats = j.get("kvm_stats") or {}
            flat = {}
            for group in stats.values():  # "vm", "vcpu0", ...
                for k, v in group.items():
                    flat[k] = flat.get(k, 0) + v
            return flat
    return None


def qmp_stats(sock_path):
    """query-stats for the vCPUs over QMP (QEMU >= 7.1)."""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(sock_path)
        f = s.makefile("rw")
        f.readline()
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n"); f.flush(); f.readline()
        f.write(json.dumps({"execute": "query-stats",
                            "arguments": {"target": "vcpu"}}) + "\n"); f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r:
                break
        out = {}
        for prov in r["return"]:
            for st in prov.get("stats", []):
                if isinstance(st.get("value"), int):
                    out[st["name"]] = out.get(st["name"], 0) + st["value"]
        return out
    except (OSError, ValueError, KeyError) as e:
        return {"error": str(e)}


KEYS = ("exits", "io_exits", "mmio_exits", "insn_emulation", "insn_emulation_fail",
        "halt_exits", "irq_exits")


def show_counters(name, c):
    if not c:
        print(f"  {name:34s} counters: n/a")
        return
    if "error" in c:
        print(f"  {name:34s} counters: n/a ({c['error']})")
        return
    print(f"  {name:34s} " + " ".join(f"{k}={c[k]}" for k in KEYS if k in c))


def linux_like(args, title, cmds, pattern):
    rows = {k: {"t": []} for k in cmds}
    counters = {}
    for _ in range(args.runs):
        for k, (c, kind) in cmds.items():
            sock = None
            if kind == "qemu":
                sock = tempfile.mktemp(prefix="nobios-qmp-")
                c = c + ["-qmp", f"unix:{sock},server=on,wait=off"]
            t, extra, out, err = run_to_line(
                c, pattern, args.timeout, on_match=(lambda s=sock: qmp_stats(s)) if sock else None,
                graceful=(kind == "nobios"))
            rows[k]["t"].append(t)
            if t is None:
                rows[k]["note"] = f"no match within {args.timeout:.0f} s"
            if kind == "nobios":
                counters[k] = nobios_counters(err)
            elif extra:
                counters[k] = extra
            if sock and os.path.exists(sock):
                os.unlink(sock)
    first = next(iter(cmds))
    report(title, rows, base=first)
    print("  KVM counters (last run, at the match: QEMU's by QMP query-stats, nobios's by its"
          " --timeline=json on SIGTERM):")
    for k in cmds:
        show_counters(k, counters.get(k))
    return rows


def need(path):
    if not os.path.exists(path):
        print(f"\n(skipping: {path} missing; run `make corpus`)")
        return False
    return True


def case_linux(args):
    bz = os.path.join(CORPUS, "linux", "vmlinuz-cloud-amd64")
    vml = os.path.join(CORPUS, "linux", "vmlinux-cloud-amd64.elf")
    if not (need(bz) and need(vml)):
        return
    cmds = {
        "nobios bzImage (host decompression)":
            ([NOBIOS, "run", bz, "--cmdline", LINUX_CMDLINE, "--timeline=json"], "nobios"),
        "qemu microvm -kernel bzImage": (qemu("microvm", "-kernel", bz, "-append", LINUX_CMDLINE), "qemu"),
        "qemu microvm -kernel vmlinux (PVH)": (qemu("microvm", "-kernel", vml, "-append", LINUX_CMDLINE), "qemu"),
    }
    return linux_like(args, "Debian bzImage to `Linux version`", cmds, r"Linux version")


def case_pvh(args):
    vml = os.path.join(CORPUS, "linux", "vmlinux-cloud-amd64.elf")
    if not need(vml):
        return
    cmds = {
        "nobios vmlinux (PVH)": ([NOBIOS, "run", vml, "--cmdline", LINUX_CMDLINE, "--timeline=json"], "nobios"),
        "qemu microvm -kernel vmlinux": (qemu("microvm", "-kernel", vml, "-append", LINUX_CMDLINE), "qemu"),
        "qemu pc -kernel vmlinux": (qemu("pc", "-kernel", vml, "-append", LINUX_CMDLINE), "qemu"),
    }
    return linux_like(args, "Debian vmlinux through PVH to `Linux version`", cmds, r"Linux version")


def case_tboot(args):
    tb = os.path.join(CORPUS, "tboot.elf")
    if not need(tb):
        return
    cmds = {
        "nobios tboot (multiboot)": ([NOBIOS, "run", tb, "--cmdline", "serial=115200 logging=serial", "--timeline=json"], "nobios"),
        "qemu pc -kernel tboot": (qemu("pc", "-kernel", tb, "-append", "serial=115200 logging=serial"), "qemu"),
    }
    return linux_like(args, "tboot (Multiboot 1) to its e820 line", cmds, r"TBOOT: original e820 map")


def case_bios(args):
    img = os.path.join(CORPUS, "syslinux-linux-hdd.img")
    if not need(img):
        return
    for label, pat in (("`Loading /vmlinuz... ok`", r"Loading /vmlinuz\.\.\. ok"),
                       ("the kernel's first line", r"Probing EDD|Linux version|Decompressing|early console")):
        cmds = {
            "nobios pseudo-BIOS": ([NOBIOS, "run", "--disk", img + ",snapshot", "--timeline=json"], "nobios"),
            "qemu pc + SeaBIOS": (qemu("pc", "-drive", f"file={img},format=raw,snapshot=on"), "qemu"),
        }
        linux_like(args, f"syslinux disk image to {label}", cmds, pat)


def case_userspace(args):
    bz = os.path.join(CORPUS, "linux", "vmlinuz-cloud-amd64")
    vml = os.path.join(CORPUS, "linux", "vmlinux-cloud-amd64.elf")
    rd = os.path.join(CORPUS, "linux", "initramfs-corpus.cpio.gz")
    if not (need(bz) and need(vml) and need(rd)):
        return
    mem = ["-m", "512M"]
    q = lambda k: qemu("microvm", "-kernel", k, "-initrd", rd, "-append", USERSPACE_CMDLINE, mem="512")
    cmds = {
        "nobios bzImage (host decompression)":
            ([NOBIOS, "run", bz, "--initrd", rd, "--cmdline", USERSPACE_CMDLINE, *mem,
              "--timeline=json"], "nobios"),
        "nobios vmlinux (PVH)":
            ([NOBIOS, "run", vml, "--initrd", rd, "--cmdline", USERSPACE_CMDLINE, *mem,
              "--timeline=json"], "nobios"),
        "qemu microvm -kernel bzImage": (q(bz), "qemu"),
        "qemu microvm -kernel vmlinux (PVH)": (q(vml), "qemu"),
    }
    return linux_like(args, "Debian's kernel to userspace (CORPUS-LINUX-OK)", cmds,
                      r"CORPUS-LINUX-OK")


def nobios_timeline(err):
    """nobios's --timeline=json object from its stderr, or None."""
    for line in err.decode(errors="replace").splitlines()[::-1]:
        if line.startswith('{"nobios_timeline"'):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def milestone(tl, name):
    for m in (tl or {}).get("milestones", []):
        if m.get("name") == name:
            return m
    return None


def detail_ms(tl, name):
    m = re.search(r"in ([0-9.]+) ms", (milestone(tl, name) or {}).get("detail", ""))
    return float(m.group(1)) if m else None


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def case_smp(args):
    guest = os.path.join(BUILD, "bench", "trivial.elf")
    counts = (1, 2, 4, 8, 16)
    first, vcpus, threads, wall = ({n: [] for n in counts} for _ in range(4))
    for _ in range(args.runs):
        for n in counts:
            t0 = time.monotonic()
            p = subprocess.run([NOBIOS, "run", guest, "--cpus", str(n), "--timeline=json"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=args.timeout)
            dt = time.monotonic() - t0
            tl = nobios_timeline(p.stderr)
            f = milestone(tl, "first guest instruction")
            c = detail_ms(tl, "vCPUs created")
            th = detail_ms(tl, "AP threads started") if n > 1 else 0.0
            if p.returncode != 1 or not f or c is None or th is None:
                print(f"  --cpus {n}: exit status {p.returncode}, no timeline: skipped")
                continue
            first[n].append(f["us"] / 1000.0)
            vcpus[n].append(c)
            threads[n].append(th)
            wall[n].append(dt * 1000.0)
    print("\n== several vCPUs: the trivial guest (its APs never started), medians in ms")
    print(f"  {'vCPUs':>6s} {'creating the vCPUs':>19s} {'starting AP threads':>20s}"
          f" {'first guest instruction':>24s} {'wall, start to exit':>20s}")
    pts = []
    for n in counts:
        if first[n]:
            pts.append((n, med([c + t for c, t in zip(vcpus[n], threads[n])])))
            print(f"  {n:6d} {med(vcpus[n]):16.3f} ms {med(threads[n]):17.3f} ms"
                  f" {med(first[n]):21.2f} ms {med(wall[n]):17.2f} ms", flush=True)
    per = slope(pts)
    if per is not None:
        print(f"  per extra vCPU (least-squares slope of creating + starting, medians of"
              f" {len(pts)} counts): {per * 1000:.0f} us; the first-instruction and wall times"
              f" carry the host's start-up noise")
    bz = os.path.join(CORPUS, "linux", "vmlinuz-cloud-amd64")
    rd = os.path.join(CORPUS, "linux", "initramfs-corpus.cpio.gz")
    if not (need(bz) and need(rd)):
        return
    cmds = {}
    for n in (1, 4):
        cmds[f"nobios bzImage --cpus {n}"] = (
            [NOBIOS, "run", bz, "--initrd", rd, "--cmdline", USERSPACE_CMDLINE, "-m", "512M",
             "--cpus", str(n), "--timeline=json"], "nobios")
    for n in (1, 4):
        cmds[f"qemu microvm -smp {n}"] = (
            qemu("microvm", "-kernel", bz, "-initrd", rd, "-append", USERSPACE_CMDLINE,
                 "-smp", str(n), mem="512"), "qemu")
    return linux_like(args, "Debian's kernel to userspace (CORPUS-LINUX-OK), 1 and 4 vCPUs",
                      cmds, r"CORPUS-LINUX-OK")


def first_and_exit(cmd, marker, timeout):
    """Seconds to the first stdout line holding `marker` and to the
    process's own exit (status 0 expected), stdout and stderr read as they
    come; (first, exit, status)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    buf, first = b"", None
    try:
        while time.monotonic() - t0 < timeout:
            r, _, _ = select.select([p.stdout], [], [], 0.05)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                if first is None and marker.encode() in buf:
                    first = time.monotonic() - t0
        p.wait(timeout=max(1, timeout - (time.monotonic() - t0)))
        total = time.monotonic() - t0
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return first, None, None
    return first, total, p.returncode


def case_exec(args):
    """`nobios exec KERNEL -- echo MARK`: process start to CMD's first output
    and to exit, against QEMU microvm booting the same kernel and the very
    same initramfs (nobios saves it: NOBIOS_EXEC_SAVE_INITRAMFS) to the same
    command; there the init finds no exec ports, runs CMD on the console and
    reboots (reboot=t: a triple fault, which -no-reboot turns into QEMU's
    exit).  Two kernels: the corpus's cloud kernel (no 9p: CMD from the
    initramfs) and, when `make exec-kernel` has fetched it, Debian's generic
    kernel with the host's / over virtio-9p (QEMU gets the same share:
    -fsdev local,path=/,readonly=on and virtio-9p-device, tag nobios-root,
    and the same packed modules through the same initramfs)."""
    mark = "nobios-bench-first-output"
    kinds = [("cloud kernel, initramfs only", os.path.join(CORPUS, "linux", "vmlinuz-cloud-amd64"),
              [], [])]
    ek = os.path.join(BUILD, "exec-kernel")
    if os.path.exists(os.path.join(ek, "RELEASE")):
        rel = open(os.path.join(ek, "RELEASE")).read().strip()
        kinds.append(("generic kernel, host / over 9p", os.path.join(ek, "vmlinuz"),
                      ["--modules", os.path.join(ek, "modules", rel)],
                      ["-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on",
                       "-device", "virtio-9p-device,fsdev=hostroot,mount_tag=nobios-root"]))
    else:
        print("  (no build/exec-kernel: `make exec-kernel` adds the 9p case)")
    for title, bz, nbargs, qargs in kinds:
        if not need(bz):
            continue
        rd = tempfile.mktemp(prefix="nobios-exec-initramfs-")
        env = dict(os.environ, NOBIOS_EXEC_SAVE_INITRAMFS=rd)
        subprocess.run([NOBIOS, "exec", bz, *nbargs, "--", "echo", mark], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=args.timeout)
        if not need(rd):
            continue
        cmds = {
            "nobios exec": [NOBIOS, "exec", bz, *nbargs, "--", "echo", mark],
            "qemu microvm, same initramfs": qemu(
                "microvm", "-kernel", bz, "-initrd", rd, "-append",
                "console=ttyS0 quiet panic=-1 reboot=t rdinit=/init", *qargs),
        }
        first = {k: {"t": []} for k in cmds}
        done = {k: {"t": []} for k in cmds}
        for _ in range(args.runs):
            for k, c in cmds.items():
                f, t, rc = first_and_exit(c, mark, args.timeout)
                first[k]["t"].append(f)
                done[k]["t"].append(t if rc == 0 else None)
                if rc != 0:
                    done[k]["note"] = f"exit status {rc}"
        os.unlink(rd)
        report(f"exec ({title}): start to CMD's first output", first, base="nobios exec")
        report(f"exec ({title}): start to exit", done, base="nobios exec")


CASES = {"trivial": case_trivial, "exec": case_exec, "linux": case_linux, "pvh": case_pvh,
         "tboot": case_tboot, "bios": case_bios, "userspace": case_userspace, "smp": case_smp}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="trivial")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIPPED: no usable /dev/kvm: nothing to benchmark")
        return 0
    print(f"nobios bench: {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs, runs={args.runs}")
    print(f"  qemu: {subprocess.run([QEMU, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    for c in args.cases.split(","):
        if c not in CASES:
            print(f"unknown case {c}; cases: {', '.join(CASES)}")
            return 2
        CASES[c](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
