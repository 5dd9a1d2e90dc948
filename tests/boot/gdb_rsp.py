#!/usr/bin/env python3
# gdb_rsp.py PORT [MODE] - drive nobios's gdb stub with raw remote-protocol
# packets where gdb's batch mode cannot.  Prints one line per step;
# tests/boot/gdb.sh asserts them.  Modes:
#   interrupt-kill (default)  attach to a running guest, continue, interrupt
#                             with 0x03, read RIP and memory, kill
#   silent      connect, then say nothing (nobios waits for a packet)
#   noack       send '?', read the reply, never acknowledge it
#   exit-noack  continue the guest, read its exit packet, never acknowledge it
# The last three print "ready" when nobios is waiting on them, then sleep
# until killed.
import socket
import sys
import time

port = int(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "interrupt-kill"
s = None
for _ in range(100):  # nobios may still be starting
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        break
    except OSError:
        time.sleep(0.1)
if s is None:
    sys.exit("cannot connect")


def send(d):
    s.sendall(("$%s#%02x" % (d, sum(d.encode()) & 0xFF)).encode())


def recv(ack=True):
    while True:
        c = s.recv(1)
        if not c:
            sys.exit("connection closed")
        if c != b"$":
            continue
        body = b""
        while True:
            c = s.recv(1)
            if not c:
                sys.exit("connection closed")
            if c == b"#":
                break
            body += c
        cs = s.recv(2)
        if int(cs, 16) != sum(body) & 0xFF:
            sys.exit("bad checksum")
        if ack:
            s.sendall(b"+")
        return body.decode()


def ready_then_sleep(what):
    print("ready", what, flush=True)
    time.sleep(120)


if mode == "silent":
    ready_then_sleep("connected")
elif mode == "noack":
    send("?")
    ready_then_sleep("stop reply " + recv(ack=False))
elif mode == "exit-noack":
    send("qSupported:swbreak+;hwbreak+")
    recv()
    send("c")
    ready_then_sleep("exit packet " + recv(ack=False))

send("qSupported:swbreak+;hwbreak+")
print("supported", recv())
send("?")
print("attach-stop", recv())
send("qfThreadInfo")
print("threads", recv())
send("c")
time.sleep(0.5)
s.sendall(b"\x03")
print("interrupt-stop", recv())
send("p10")  # rip in the x86-64 description
rip = recv()
print("rip", hex(int.from_bytes(bytes.fromhex(rip), "little")))
send("m100000,4")
print("mem", recv())
send("k")
time.sleep(0.3)
