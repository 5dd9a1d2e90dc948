#!/usr/bin/env python3
"""tests/svm/stall_report.py MONITOR KALLSYMS NCPUS - what a stalled test host's
CPUs were doing, from its QEMU monitor (a unix socket): `info cpus`,
`info registers -a` and `info lapic N` for each CPU, then every RIP named
from the test host kernel's symbols (KALLSYMS, saved by its first run; it
boots with nokaslr).  A CPU that was running a guest shows the guest's
registers, which those names do not fit.  Run by tests/svm/run before it
kills a stalled test host."""
import bisect
import re
import socket
import sys
import time


def ask(path, ncpus):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(b"info cpus\ninfo registers -a\n" +
              b"".join(b"info lapic %d\n" % i for i in range(ncpus)))
    buf, end = b"", time.time() + 5
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    # The monitor echoes what it is sent, with terminal escapes: drop them.
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\(qemu\) [^\n]*", "",
                  buf.decode("latin-1").replace("\r", ""))


def symbols(path):
    try:
        with open(path) as f:
            return sorted((int(l.split()[0], 16), l.split()[2])
                          for l in f if len(l.split()) >= 3)
    except OSError:
        return []


def main():
    monitor, kallsyms, ncpus = sys.argv[1], sys.argv[2], int(sys.argv[3])
    text = ask(monitor, ncpus)
    print(text)
    syms = symbols(kallsyms)
    keys = [a for a, _ in syms]
    for rip in re.findall(r"RIP=([0-9a-f]+)", text):
        i = bisect.bisect_right(keys, int(rip, 16)) - 1
        where = "%s+0x%x" % (syms[i][1], int(rip, 16) - keys[i]) if i >= 0 else "?"
        print("RIP %s: %s" % (rip, where))


if __name__ == "__main__":
    main()
