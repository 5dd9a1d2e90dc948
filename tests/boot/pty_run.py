#!/usr/bin/env python3
"""pty_run.py SECS -- CMD... - run CMD with a pseudo-terminal as its controlling
terminal and stdin/stdout/stderr (as a user at a console would), until it
exits or SECS pass.  Prints everything CMD wrote, then one line
"PTY: status N, terminal restored|terminal NOT restored (...)" and exits 0;
exits 1 (after killing CMD) on the time limit.  For nobios: the console must
put the terminal in raw mode while the guest runs and restore it exactly on
every way out, including a guest's own power-off or reboot."""
import os, select, subprocess, sys, termios, time

secs = float(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
master, slave = os.openpty()
before = termios.tcgetattr(slave)


def child_setup():
    os.setsid()
    import fcntl
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                        preexec_fn=child_setup, close_fds=True)
out = bytearray()
end = time.time() + secs
raw_seen = False
while proc.poll() is None and time.time() < end:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            break
    if not raw_seen:
        raw_seen = not (termios.tcgetattr(slave)[3] & termios.ICANON)
if proc.poll() is None:
    proc.kill()
    proc.wait()
    sys.stdout.write(out.decode("utf-8", "replace"))
    print("\nPTY: killed after %g s" % secs)
    sys.exit(1)
while True:  # what is left in the pty
    r, _, _ = select.select([master], [], [], 0.1)
    if not r:
        break
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
after = termios.tcgetattr(slave)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
diff = [i for i in range(6) if before[i] != after[i]] + (["cc"] if before[6] != after[6] else [])
print("\nPTY: status %d, %s%s" % (proc.returncode,
      "terminal restored" if not diff else "terminal NOT restored (fields %s differ)" % diff,
      ", raw while running" if raw_seen else ", never raw"))
