#!/usr/bin/env python3
# gdb_rsp.py PORT - drive nobios's gdb stub with raw remote-protocol packets
# where gdb's batch mode cannot (Ctrl-C while the guest runs): attach to a
# running guest, continue, interrupt with 0x03, read RIP, kill.  Prints one
# line per step; tests/boot/gdb.sh asserts them.
import socket
import sys
import time

port = int(sys.argv[1])
s = None
for _ in range(50):  # nobios may still be starting
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        break
    except OSError:
        time.sleep(0.1)
if s is None:
    sys.exit("cannot connect")


def send(d):
    s.sendall(("$%s#%02x" % (d, sum(d.encode()) & 0xFF)).encode())


def recv():
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
        s.sendall(b"+")
        return body.decode()


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
