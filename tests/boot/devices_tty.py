#!/usr/bin/env python3
"""devices_tty.py NOBIOS PROBE MODE [asan] - run the devices probe (action=echo) on a
pseudo-terminal as its controlling terminal and check the console's raw mode:

  escape   Ctrl-C reaches the guest (ISIG off), Ctrl-A x quits with status 0
  sigterm  SIGTERM ends nobios with the signal's status
  sigsegv  a fatal SIGSEGV (sent) ends it the same way

In every mode the terminal must be raw while the guest runs and exactly as
before once nobios is gone.  With "asan" (a sanitizer build), SIGSEGV goes on
to ASan's own handler, which reports and exits with status 1: accepted too.  Prints one line; exit 0 on success, 1 on failure."""
import os, select, signal, subprocess, sys, termios, time

nobios, probe, mode = sys.argv[1:4]
asan = len(sys.argv) > 4 and sys.argv[4] == "asan"
master, slave = os.openpty()
before = termios.tcgetattr(slave)


def child_setup():
    os.setsid()
    import fcntl
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


proc = subprocess.Popen([nobios, "run", probe, "--cmdline", "action=echo"],
                        stdin=slave, stdout=slave, stderr=slave,
                        preexec_fn=child_setup, close_fds=True)
out = b""


def read_until(token, secs):
    global out
    end = time.time() + secs
    while token not in out and time.time() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                out += os.read(master, 4096)
            except OSError:
                break
    return token in out


def fail(why):
    proc.kill()
    proc.wait()
    print("FAIL: %s; output: %r" % (why, out[-300:]))
    sys.exit(1)


if not read_until(b"ECHO-READY", 60):
    fail("no ECHO-READY")
now = termios.tcgetattr(slave)
if now[3] & (termios.ICANON | termios.ECHO | termios.ISIG):
    fail("terminal not raw while the guest runs (lflag %#x)" % now[3])

if mode == "escape":
    os.write(master, b"z\x03")
    if not read_until(b"got 0x3", 20):
        fail("Ctrl-C did not reach the guest")
    os.write(master, b"\x01x")
    expect = (0,)
elif mode == "sigterm":
    proc.send_signal(signal.SIGTERM)
    expect = (-signal.SIGTERM, 128 + signal.SIGTERM)
else:
    proc.send_signal(signal.SIGSEGV)
    expect = (-signal.SIGSEGV, 128 + signal.SIGSEGV) + ((1,) if asan else ())
try:
    rc = proc.wait(timeout=20)
except subprocess.TimeoutExpired:
    fail("nobios did not end")
after = termios.tcgetattr(slave)
if rc not in expect:
    fail("status %d, expected one of %r" % (rc, expect))
if after != before:
    fail("terminal not restored: %r != %r" % (after, before))
print("ok: %s: status %d, terminal restored" % (mode, rc))
