#!/usr/bin/env python3
"""crafted.py OUTDIR DEMO_BZIMAGE ELF64 - hostile input files for
tests/boot/hostile.sh (issue 14), written from scratch each run:

  notes.elf      4.7 MB ELF64: 10000 PT_NOTE headers naming the same run of
                 empty notes, a Xen PHYS32_ENTRY note at the end (PVH)
  symtab.elf     6 MB ELF64: 40000 SHT_SYMTAB headers naming one table
  hdrs-0x207.bin 0x207 bytes with "HdrS" at 0x202 (version byte missing)
  osv-escape.img OSv disk whose command line carries terminal escapes
  initrd0.bzImage  the demo bzImage with initrd_addr_max = 0
  bomb.bzImage   the demo bzImage with a gzip payload of 512 MiB of zeros
  bomb-liar.bzImage  the same with a size trailer that claims 4 MiB
"""
import gzip
import os
import struct
import sys
import zlib

out, demo, elf64 = sys.argv[1], sys.argv[2], sys.argv[3]


def ehdr(phnum, shoff=0, shnum=0):
    return (b"\x7fELF\x02\x01\x01" + bytes(9) +
            struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, 64, shoff, 0, 64, 56,
                        phnum, 64, shnum, 0))


def phdr(ptype, off, paddr, filesz, memsz):
    return struct.pack("<IIQQQQQQ", ptype, 5, off, paddr, paddr, filesz, memsz, 4)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# notes.elf
size, nph = 4_700_000, 10000
notes = (64 + nph * 56 + 15) & ~15
xen = size - 20
body = bytearray(size)
body[0:64] = ehdr(nph)
body[64:120] = phdr(1, 0, 0x100000, 0x1000, 0x1000)
for i in range(1, nph):
    body[64 + i * 56:120 + i * 56] = phdr(4, notes, 0, size - notes, 0)
empty = struct.pack("<III", 0, 0, 0x4242)
n = (xen - notes) // 12
body[notes:notes + n * 12] = empty * n
left = (xen - notes) - n * 12
if left:  # one note whose desc fills the gap
    struct.pack_into("<I", body, notes + (n - 1) * 12 + 4, left)
body[xen:size] = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100000)
write("notes.elf", body)

# symtab.elf
size, nsh = 6_000_000, 40000
shoff = 120
strt = shoff + nsh * 64
syms = (strt + 3 + 7) & ~7
nsyms = (size - syms) // 24
body = bytearray(size)
body[0:64] = ehdr(1, shoff, nsh)
body[64:120] = phdr(1, 0, 0x100000, 0x1000, 0x1000)
body[shoff:shoff + 64] = struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, strt, 3, 0, 0, 1, 0)
sym_sh = struct.pack("<IIQQQQIIQQ", 0, 2, 0, 0, syms, nsyms * 24, 0, 0, 8, 24)
body[shoff + 64:strt] = sym_sh * (nsh - 1)
body[strt:strt + 3] = b"\0x\0"
sym = struct.pack("<IBBHQQ", 1, 0, 0, 1, 0, 0)
body[syms:syms + nsyms * 24] = sym * nsyms
write("symtab.elf", body)

# hdrs-0x207.bin
body = bytearray(0x207)
body[0x202:0x206] = b"HdrS"
body[0x206] = 0x0F
write("hdrs-0x207.bin", body)

# osv-escape.img
with open(elf64, "rb") as f:
    loader = f.read()
body = bytearray(128 * 512)
body[510:512] = b"\x55\xaa"
cmd = b"--verbose\x1b]0;pwned\x07\x1b[2J\x1b[31mred\0"
body[512:512 + len(cmd)] = cmd
write("osv-escape.img", bytes(body) + loader)

# initrd0.bzImage
with open(demo, "rb") as f:
    bz = bytearray(f.read())
struct.pack_into("<I", bz, 0x22C, 0)
write("initrd0.bzImage", bz)

# bomb.bzImage: 512 MiB of zeros, gzip'ed (~500 KB), as the payload
with open(demo, "rb") as f:
    bz = bytearray(f.read())
setup = ((bz[0x1F1] or 4) + 1) * 512
c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
chunk = bytes(1 << 20)
pl = bytearray()
for _ in range(512):
    pl += c.compress(chunk)
pl += c.flush()
pl += struct.pack("<I", (512 << 20) & 0xFFFFFFFF)
struct.pack_into("<II", bz, 0x248, len(bz) - setup, len(pl))
write("bomb.bzImage", bytes(bz) + bytes(pl))
# the same payload with a trailer that lies (4 MiB): only the decompression
# limit itself stops it
struct.pack_into("<I", pl, len(pl) - 4, 4 << 20)
write("bomb-liar.bzImage", bytes(bz) + bytes(pl))
