#!/usr/bin/env python3
"""seeds.py OUTDIR BUILD [CORPUS] - starting inputs for each fuzz target
(tests/fuzz/fuzz.mk), one directory per target under OUTDIR, rewritten on
every run (a seed is a file named by its content's hash):

  fuzz_load      the probe guests and demo kernel, and the first MiB of each
                 corpus image (bzImage, vmlinux, tboot, syslinux disk): their
                 headers, notes and boot sectors
  fuzz_bios      one call per INT vector and function nobios serves, with
                 plausible registers (buffers in low memory, DAPs, E820)
  fuzz_emul      each instruction of the completion probe guests (objdump),
                 in its mode, plus the instructions nobios handles itself
  fuzz_pagewalk  identity tables for each paging mode
  fuzz_pio       accesses to every device's ports in the order drivers use
  fuzz_gdb       sessions of the packets gdb sends
  fuzz_args      the command lines of tests/boot/*.sh

The layouts match the harnesses' readers (the fz_* calls in tests/fuzz/).
"""
import glob
import hashlib
import os
import struct
import subprocess
import sys

out, build = sys.argv[1], sys.argv[2]
corpus = sys.argv[3] if len(sys.argv) > 3 else ""


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def u8(v): return struct.pack("<B", v & 0xFF)
def u16(v): return struct.pack("<H", v & 0xFFFF)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)
def u64(v): return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


for t in ("fuzz_load", "fuzz_bios", "fuzz_emul", "fuzz_pagewalk", "fuzz_pio", "fuzz_gdb",
          "fuzz_args", "fuzz_virtio", "fuzz_p9"):
    d = os.path.join(out, t)
    if os.path.isdir(d):
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))

# ---- fuzz_load: selector byte 0 (detect, 16 MiB) then the file
guests = sorted(glob.glob(os.path.join(build, "guests", "*.bzImage")) +
                glob.glob(os.path.join(build, "guests", "*.elf")) +
                glob.glob(os.path.join(build, "guests", "*.img")) +
                glob.glob(os.path.join(build, "guests", "*.bin")))
for g in guests:
    if os.path.getsize(g) < 4 << 20:
        with open(g, "rb") as f:
            put("fuzz_load", b"\0" + f.read())
if corpus and os.path.isdir(corpus):
    for g in sorted(glob.glob(os.path.join(corpus, "*")) + glob.glob(os.path.join(corpus, "*", "*"))):
        if os.path.isfile(g) and os.path.getsize(g) > 4096 and not g.endswith(".gz"):
            with open(g, "rb") as f:
                put("fuzz_load", b"\0" + f.read(1 << 20))

# ---- fuzz_bios: header (flags, hd sectors, floppy size index), then calls:
# vector index, EAX ECX EDX EBX ESP EBP ESI EDI, ES DS SS (selector, base
# flag), SP, FLAGS, patch (address, length, bytes)
VEC = {0x10: 0, 0x11: 1, 0x12: 2, 0x13: 3, 0x15: 4, 0x16: 5, 0x18: 6, 0x19: 7, 0x1A: 8}


def call(vec, ax=0, bx=0, cx=0, dx=0, si=0, di=0, es=0, ds=0, patch=b"", at=0):
    regs = [ax, cx, dx, bx, 0, 0, si, di]
    b = u8(VEC[vec]) + b"".join(u32(r) for r in regs)
    for sel in (es, ds, 0):
        b += u16(sel) + u8(0)
    b += u16(0x7000) + u16(0x0202) + u32(at) + u8(len(patch)) + patch
    return b


def dap(count, seg, off, lba):
    return struct.pack("<BBHHHQ", 0x10, 0, count, off, seg, lba)


hdr = u8(0x0F) + u32(2048) + u8(3)  # hd rw + floppy rw, 1 MiB disk, 1.44M floppy
bios_calls = [
    call(0x10, ax=0x0E41), call(0x10, ax=0x0003), call(0x10, ax=0x0200, dx=0x0510),
    call(0x10, ax=0x0300), call(0x10, ax=0x0601, bx=0x0700, cx=0, dx=0x184F),
    call(0x10, ax=0x0941, bx=0x0007, cx=3), call(0x10, ax=0x0F00), call(0x10, ax=0x1200, bx=0x10),
    call(0x10, ax=0x1301, bx=0x0007, cx=5, dx=0, es=0x0100, at=0x1000, patch=b"hello"),
    call(0x10, ax=0x4F00, es=0x0200, di=0), call(0x11), call(0x12),
    call(0x13, ax=0x0000, dx=0x80), call(0x13, ax=0x0100, dx=0x80),
    call(0x13, ax=0x0201, cx=0x0001, dx=0x0080, es=0x07C0, bx=0),
    call(0x13, ax=0x0301, cx=0x0002, dx=0x0080, es=0x07C0, bx=0),
    call(0x13, ax=0x0201, cx=0x0001, dx=0x0000, es=0x07C0, bx=0),
    call(0x13, ax=0x0800, dx=0x80), call(0x13, ax=0x0800, dx=0x00), call(0x13, ax=0x1500, dx=0x80),
    call(0x13, ax=0x4100, bx=0x55AA, dx=0x80),
    call(0x13, ax=0x4200, dx=0x80, ds=0x0000, si=0x0600, at=0x600, patch=dap(4, 0x0800, 0, 1)),
    call(0x13, ax=0x4300, dx=0x80, ds=0x0000, si=0x0600, at=0x600, patch=dap(1, 0x0800, 0, 2)),
    call(0x13, ax=0x4200, dx=0x80, ds=0x0000, si=0x0600, at=0x600,
         patch=dap(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFFFFFF)),
    call(0x13, ax=0x4800, dx=0x80, ds=0x0000, si=0x0600, at=0x600, patch=u16(0x1E)),
    call(0x13, ax=0x4B01, dx=0x80, ds=0, si=0x600),
    call(0x15, ax=0xE820, dx=0x534D4150, cx=20, bx=0, es=0x0100, di=0),
    call(0x15, ax=0xE820, dx=0x534D4150, cx=24, bx=3, es=0x0100, di=0),
    call(0x15, ax=0xE801), call(0x15, ax=0x8800), call(0x15, ax=0x2401), call(0x15, ax=0x2402),
    call(0x15, ax=0xC000), call(0x15, ax=0x8600, cx=0, dx=10), call(0x15, ax=0xEC00, bx=2),
    call(0x15, ax=0x8700, cx=0x100, es=0x0100, si=0, at=0x1000,
         patch=bytes(16) + struct.pack("<HHBBH", 0xFFFF, 0x0000, 0x10, 0x93, 0) +
         struct.pack("<HHBBH", 0xFFFF, 0x0000, 0x20, 0x93, 0) + bytes(16)),
    call(0x16, ax=0x0100), call(0x16, ax=0x0200), call(0x16, ax=0x1100),
    call(0x1A, ax=0x0000), call(0x1A, ax=0x0200), call(0x1A, ax=0x0400), call(0x1A, ax=0xB101),
    call(0x19), call(0x18),
]
for c in bios_calls:
    put("fuzz_bios", hdr + c)
put("fuzz_bios", hdr + b"".join(bios_calls[:20]))
put("fuzz_bios", u8(0x05) + u32(0) + u8(0) + b"".join(bios_calls[20:40]))

# ---- fuzz_emul / fuzz_pagewalk: the CPU state of cpu_fuzz.h


def segment(sel, base, limit, typ, s=1, dpl=0, db=0, l=0, g=0):
    a = sel | typ << 16 | s << 20 | dpl << 21 | db << 23 | l << 24 | g << 25
    return u32(a) + u32(base) + u32(limit)


def cpu_state(mode, cr3=0x9000, rip=0x4000, gpr=None, extra=0):
    b = u8(mode) + u32(extra) + u64(cr3) + u64(rip) + u64(0x2)
    gpr = gpr or [0xE000 + 0x100 * i for i in range(16)]
    b += b"".join(u64(r) for r in gpr)
    if mode in (4, 5):
        cs = segment(0x10, 0, 0xFFFFFFFF, 0xB, l=1, g=1)
    elif mode == 0:
        cs = segment(0, 0, 0xFFFF, 0xB)
    else:
        cs = segment(0x08, 0, 0xFFFFFFFF, 0xB, db=1, g=1)
    ds = segment(0x18, 0, 0xFFFFFFFF, 0x3, db=mode != 0, g=mode != 0)
    return b + cs + ds * 5


def identity_tables(mode):
    """The first 64 KiB of RAM, page tables at 0x9000 mapping the first
    2 MiB (the rest of RAM is zeros)."""
    ram = bytearray(0x10000)
    if mode in (4, 5):
        top = 0x9000
        if mode == 5:
            struct.pack_into("<Q", ram, 0x9000, 0xA000 | 3)
            top = 0xA000
        struct.pack_into("<Q", ram, top, 0xB000 | 3)      # PML4E
        struct.pack_into("<Q", ram, 0xB000, 0xC000 | 3)   # PDPTE
        struct.pack_into("<Q", ram, 0xC000, 0x0 | 0x83)   # PDE: 2 MiB page
    elif mode == 3:
        struct.pack_into("<Q", ram, 0x9000, 0xB000 | 1)   # PDPTE (PAE)
        struct.pack_into("<Q", ram, 0xB000, 0x0 | 0x83)
    elif mode == 2:
        for i in range(512):                              # 32-bit PTs
            struct.pack_into("<I", ram, 0xB000 + 4 * i, (i << 12) | 3)
        struct.pack_into("<I", ram, 0x9000, 0xB000 | 3)
    return bytes(ram)


for mode in range(6):
    vas = [0x100000, 0x1FF000, 0x200000, 0xFFFFFFFF80000000, 0x7000, 0x9000, 0xFFF, 0x12345]
    put("fuzz_pagewalk", cpu_state(mode, extra=0x100) + b"".join(u64(v) for v in vas) +
        u16(0x1800) + identity_tables(mode))

insns = []  # (mode_bits, bytes)
for elf, bits in (("emul64.elf", 64), ("sse-guest.elf", 64), ("emul32.elf", 32),
                  ("emul-refuse.elf", 64)):
    path = os.path.join(build, "guests", elf)
    if not os.path.exists(path):
        continue
    try:
        dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn" if False else "-w", path],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        continue
    for line in dis.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().endswith(":"):
            hexb = parts[1].split()
            try:
                insns.append((bits, bytes(int(h, 16) for h in hexb)))
            except ValueError:
                pass
# nobios's own handlers, whatever the guests use
own = ["f30fb8c0", "f3480fb80424", "f0480fc70e", "0f01ca", "0f01cb", "0f01d0", "0f01d1",
       "0fae20", "480fae20", "0fae28", "0fc720", "0fae30", "0fc718", "0fae00", "0fae08",
       "cc", "9b", "c5f857c0", "0f28c1", "660fefc0", "0fae1424", "f30f1ec8"]
insns += [(64, bytes.fromhex(h)) for h in own] + [(32, bytes.fromhex(h)) for h in own[:8]]
seen = set()
ram = identity_tables(4)
for n, (bits, b) in enumerate(insns[:240]):
    if (bits, b) in seen or not b:
        continue
    seen.add((bits, b))
    mode = 4 if bits == 64 else 1
    how = 0x3 | (2 if bits == 64 else 1) << 3
    head = cpu_state(mode, extra=0xC8) + u8(how) + u64(0x7) + u64(0x207) + bytes(1024)
    put("fuzz_emul", head + (b + bytes(15))[:15] + ram)
    if n % 4 == 0:  # some of them fetched from guest memory at RIP
        mem = bytearray(ram)
        mem[0x4000:0x4000 + len(b)] = b
        put("fuzz_emul", cpu_state(mode, extra=0xC8) + u8(how | 4) + u64(7) + u64(0x207) +
            bytes(1024) + bytes(15) + bytes(mem))

# ---- fuzz_pio: op byte k (bit 7 raw port, bit 4 out, bits 5-6 size), then
# an index into the harness's port table (or a raw port), data for outs:
PORTS = [0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x60, 0x64, 0x70, 0x71,
         0x92, 0xCF9, 0xE9, 0xF4, 0x80, 0xEE]


def out8(port, v):
    return u8(0x10) + u8(PORTS.index(port)) + u8(v) + (bytes(16) if port == 0xEE else b"")


def in8(port):
    return u8(0) + u8(PORTS.index(port))


uart = (out8(0x3FB, 0x80) + out8(0x3F8, 1) + out8(0x3F9, 0) + out8(0x3FB, 3) + out8(0x3FA, 0xC7) +
        out8(0x3FC, 0x0B) + out8(0x3F9, 0x0F) + in8(0x3FA) + in8(0x3FD) + out8(0x3F8, 0x41) +
        in8(0x3FE) + in8(0x3FD) + out8(0x3FC, 0x1B) + out8(0x3F8, 0x42) + in8(0x3F8) + in8(0x3FF) +
        out8(0x3FF, 0x55) + in8(0x3FF))
i8042 = (in8(0x64) + out8(0x64, 0xAA) + in8(0x60) + out8(0x64, 0x20) + in8(0x60) + out8(0x64, 0x60) +
         out8(0x60, 0x47) + out8(0x64, 0xAB) + in8(0x60) + out8(0x64, 0xD1) + out8(0x60, 0xDF) +
         out8(0x60, 0xFF) + in8(0x60) + out8(0x64, 0xFE))
cmos = b"".join(out8(0x70, r) + in8(0x71) for r in (0, 2, 4, 6, 7, 8, 9, 0x0A, 0x0B, 0x0C, 0x0D,
                                                    0x0E, 0x0F, 0x10, 0x14, 0x15, 0x16, 0x17,
                                                    0x18, 0x30, 0x31, 0x32, 0x34, 0x35, 0x7F))
cmos += out8(0x70, 0x0B) + out8(0x71, 0x86) + out8(0x70, 0) + out8(0x71, 0x59) + out8(0x70, 0x8F)
misc = out8(0xE9, 0x68) + out8(0x80, 0x12) + in8(0x92) + out8(0x92, 0x02) + in8(0xCF9)
for s in (uart, i8042, cmos, misc, uart + i8042 + cmos + misc, out8(0xCF9, 0x06), out8(0xF4, 0x10),
          out8(0x92, 0x01)):
    put("fuzz_pio", s)
# a BIOS trap from the INT 10h stub (vector 0x10): EAX=0x0E41
put("fuzz_pio", u8(0x10) + u8(PORTS.index(0xEE)) + u8(0) + u32(0x0E41) + u32(7) + u32(0) + u32(0) +
    u16(0x300 + 4 * 0x10) + u16(0x7000))

# ---- fuzz_gdb: flags byte (bit 0 random CPU state: no), then the stream


def pkt(d):
    d = d.encode() if isinstance(d, str) else d
    return b"$" + d + b"#%02x" % (sum(d) & 0xFF)


sessions = [
    ["qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386", "QStartNoAckMode",
     "Hg0", "qXfer:features:read:target.xml:0,fff", "qXfer:features:read:target.xml:800,800",
     "?", "qC", "qfThreadInfo", "qsThreadInfo", "qAttached", "g", "p10", "p1f", "m100000,40",
     "m0,10", "mffffffff80000000,8"],
    ["g", "G" + "00" * 8 * 17, "P0=1122334455667788", "p0", "M100000,4:90909090", "m100000,4",
     "X100010,2:\x90\x90"],
    ["Z0,100000,1", "Z1,100004,1", "Z2,200000,8", "Z3,200008,4", "Z4,200010,1", "c", "s",
     "z0,100000,1", "z1,100004,1", "z2,200000,8", "vCont?", "vCont;s:1", "vCont;c", "D"],
    ["qRcmd,64756d70", "qRcmd,7472616e736c61746520307831303030", "qRcmd,636865636b73",
     "T1", "T9", "Hc-1", "Hg2", "g", "k"],
    ["m100000,ffffffff", "Mffffffffffff,ffff:00", "p9999", "Z0,0,0", "Z9,1,1", "qXfer:features:read:x:0,0",
     "G" + "zz" * 4, "M100000,2:0", "vMustReplyEmpty", "qTStatus", "!", "R00"],
]
for i, sess in enumerate(sessions):
    stream = b"".join(pkt(p) + b"+" for p in sess)
    put("fuzz_gdb", u8(0x08 | (i & 6)) + stream)
    put("fuzz_gdb", u8(0x80 | 0x18) + stream)  # no-ack mode, int3 and DR0-3 honoured
put("fuzz_gdb", u8(0) + b"+$?#3f\x03-+$g#67+$m100000,10#ff+}}$#00")

# ---- fuzz_args: NUL-separated words
cmds = [
    "run build/guests/demo.bzImage --cmdline hello",
    "--kernel vmlinuz --append=console=ttyS0 -m 512 --initrd initrd.img",
    "run --disk d.img,rw --floppy f.img,snapshot --boot-protocol bios -v",
    "run k.elf --entry-symbol start64 --module m1,arg --module m2 --cache-dir /tmp/c",
    "run vmlinux --cpus 1 --cpuid-mask avx,xsave --cpuid-keep cx16 --timeout 1.5",
    "run k --timeline=json --dump-state-on-exit --gdb 1234 --gdb-wait --no-sandbox",
    "inspect build/guests/demo.bzImage --boot-protocol linux32",
    "inspect --kernel x --entry-symbol foo", "--help", "--version", "help", "frob",
    "run k -m 12Q", "run k -m 2T", "run --disk ,rw", "run a b", "run k --gdb-wait",
    "run k -smp 4 -hda x -fda y -kernel z", "run k -m 0x10G",
]
for c in cmds:
    put("fuzz_args", "\0".join(c.split(" ")).encode())

# ---- fuzz_virtio: op byte k (bit 7: the rng, bits 7 and 6: the network device,
# else the disk; low 3 bits: 0 init, 1 write, 2 read, 3 notify, 4 ack, 5/7 memory
# at u16, 6 memory at u32, for the network device a frame from the host: u16 length
# + u8 (bit 0: 4465 more) + up to 64 bytes), rings at 0x1000 (descriptors), 0x2000
# (avail), 0x3000 (used); the network device's transmitq at 0x4000/0x5000/0x6000.
def vmem(at, b):
    return u8(5) + u16(at) + u8(len(b)) + b
def vdesc(i, addr, ln, flags, nxt):
    return vmem(0x1000 + 16 * i, u64(addr) + u32(ln) + u16(flags) + u16(nxt))
def vavail(idx, heads):
    return vmem(0x2000, u16(0) + u16(idx) + b"".join(u16(h) for h in heads))
init = u8(0) + u8(4) + u32(1 << 28)  # 16 entries, INDIRECT_DESC
for typ, sector, dflags in ((0, 1, 3), (1, 2, 1), (4, 0, 3), (8, 0, 3), (11, 0, 1), (13, 0, 1)):
    s = init + vmem(0x4000, u32(typ) + u32(0) + u64(sector))
    s += vmem(0x4100, u64(0) + u32(1) + u32(0))
    s += vdesc(0, 0x4000, 16, 1, 1) + vdesc(1, 0x5000, 512, dflags, 2) + vdesc(2, 0x6000, 1, 2, 0)
    s += vavail(1, [0]) + u8(3) + u8(0) + u8(4) + u8(1) + u8(2) + u16(0x60) + u8(2)
    put("fuzz_virtio", s)
# indirect, a loop, out of RAM
s = init + vmem(0x4000, u32(0) + u32(0) + u64(3))
s += vmem(0x7000, u64(0x4000) + u32(16) + u16(1) + u16(1) + u64(0x5000) + u32(512) + u16(3) + u16(2) +
          u64(0x6000) + u32(1) + u16(2) + u16(0))
s += vdesc(0, 0x7000, 48, 4, 0) + vdesc(1, 0x4000, 16, 1, 1) + vdesc(2, 0xFFFFF000, 0x2000, 0, 0)
s += vavail(3, [0, 1, 2]) + u8(3) + u8(0)
put("fuzz_virtio", s)
# the network device: a receive buffer, frames of 100 and 70000 bytes; a transmit
# with a zero header and a 60-byte frame
s = u8(0xC0) + u8(4) + u32((1 << 5) | (1 << 16))
s += u8(0xC5) + u16(0x1000) + u8(16) + u64(0x8000) + u32(1526) + u16(2) + u16(0)
s += u8(0xC5) + u16(0x2000) + u8(6) + u16(0) + u16(1) + u16(0) + u8(0xC3) + u8(0)
s += u8(0xC6) + u16(100) + u8(0) + bytes(range(64))
s += u8(0xC6) + u16(65535) + u8(1) + bytes(64)
s += u8(0xC5) + u16(0x4000) + u8(16) + u64(0x9000) + u32(72) + u16(0) + u16(0)
s += u8(0xC5) + u16(0x5000) + u8(6) + u16(0) + u16(1) + u16(0) + u8(0xC3) + u8(1)
put("fuzz_virtio", s)
# VIRTIO_F_EVENT_IDX: a read with used_event (0x2000 + 4 + 2 * 16) ahead, then
# caught up; and the network device with it
s = u8(0) + u8(4) + u32((1 << 28) | (1 << 29)) + vmem(0x4000, u32(0) + u32(0) + u64(1))
s += vdesc(0, 0x4000, 16, 1, 1) + vdesc(1, 0x5000, 512, 3, 2) + vdesc(2, 0x6000, 1, 2, 0)
s += vmem(0x2024, u16(5)) + vavail(1, [0]) + u8(3) + u8(0)
s += vmem(0x2024, u16(1)) + vavail(2, [0, 0]) + u8(3) + u8(0)
put("fuzz_virtio", s)
s = u8(0xC0) + u8(4) + u32((1 << 5) | (1 << 16) | (1 << 29))
s += u8(0xC5) + u16(0x1000) + u8(16) + u64(0x8000) + u32(1526) + u16(2) + u16(0)
s += u8(0xC5) + u16(0x2000) + u8(6) + u16(0) + u16(1) + u16(0) + u8(0xC3) + u8(0)
s += u8(0xC6) + u16(100) + u8(0) + bytes(range(64))
s += u8(0xC6) + u16(100) + u8(0) + bytes(64)
put("fuzz_virtio", s)
# the rng
s = u8(0x80) + u8(4) + u32(0) + u8(0x85) + u16(0x1000) + u8(16) + u64(0x5000) + u32(64) + u16(2) + u16(0)
s += u8(0x85) + u16(0x2000) + u8(6) + u16(0) + u16(1) + u16(0) + u8(0x83) + u8(0)
put("fuzz_virtio", s)

# ---- fuzz_p9: after Tversion and Tattach (fid 0): len[2] type[1] body per
# message (bit 15 of len: raw bytes, size field included).
def p9(type_, body):
    return u16(len(body)) + u8(type_) + body
def p9s(x):
    return u16(len(x)) + x
walk = lambda fid, nfid, names: p9(110, u32(fid) + u32(nfid) + u16(len(names)) + b"".join(p9s(n) for n in names))
s = walk(0, 1, [b"file"]) + p9(12, u32(1) + u32(2)) + p9(118, u32(1) + u64(3) + u32(4) + b"abcd")
s += p9(116, u32(1) + u64(0) + u32(100)) + p9(24, u32(1) + u64(0x7FF)) + p9(120, u32(1))
put("fuzz_p9", s)
s = walk(0, 2, []) + p9(14, u32(2) + p9s(b"new") + u32(0o102) + u32(0o644) + u32(0))
s += p9(118, u32(2) + u64(0) + u32(2) + b"hi") + p9(50, u32(2) + u32(0))
s += p9(72, u32(0) + p9s(b"d") + u32(0o755) + u32(0)) + p9(16, u32(0) + p9s(b"s") + p9s(b"/etc") + u32(0))
s += p9(70, u32(0) + u32(2) + p9s(b"hard")) + p9(74, u32(0) + p9s(b"hard") + u32(0) + p9s(b"h2"))
s += p9(76, u32(0) + p9s(b"h2") + u32(0)) + p9(76, u32(0) + p9s(b"d") + u32(0x200))
put("fuzz_p9", s)
s = walk(0, 3, [b"file"]) + p9(26, u32(3) + u32(0x1FF) + u32(0o600) + u32(0) + u32(0) + u64(4) + u64(1) + u64(2) + u64(3) + u64(4))
s += walk(0, 4, [b"out", b".."]) + walk(0, 5, [b"sub"]) + p9(12, u32(5) + u32(0)) + p9(40, u32(5) + u64(0) + u32(4096))
s += p9(52, u32(3) + u8(1) + u32(0) + u64(0) + u64(0) + u32(1) + p9s(b"c")) + p9(8, u32(0)) + p9(22, u32(4))
put("fuzz_p9", s)
put("fuzz_p9", u16(0x8000 | 7) + u8(0) + u32(0xFFFFFFFF) + u8(110) + u16(0))
