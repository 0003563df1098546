#!/usr/bin/python3
"""privacy_probe.py — where a canary could leak, for test_private.sh.

  privacy_probe.py capture OUT READY   every packet on lo, raw, into OUT until SIGTERM; writes
                                       READY once listening; prints "packets N drops N" at exit
  privacy_probe.py memscan NEEDLE PID...
                                       searches each process's readable memory (/proc/PID/maps,
                                       /proc/PID/mem) for NEEDLE; prints each hit; exit 1 when
                                       found, 0 when not, 2 when a process could not be read
  privacy_probe.py filescan NEEDLE PATH...
                                       the same over files (directories recursively)

NEEDLE is the text itself, or @FILE for the bytes of FILE (an answer with any bytes in it).

Memory: every readable mapping with resident pages is read whole, except mappings over 64 GiB,
which only a sanitizer's shadow reaches (it holds shadow bytes, no data). A region that cannot
be read (a guard, a device) is skipped.
"""
import os
import re
import signal
import socket
import struct
import sys

SOL_PACKET, PACKET_STATISTICS, ETH_P_ALL, SO_RCVBUFFORCE = 263, 6, 3, 33
BIG = 64 << 30


def capture(out, ready):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
    # a buffer for bursts (other tests share lo): SO_RCVBUFFORCE (root) passes rmem_max
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 512 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind(("lo", 0))
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    n = 0
    with open(out, "wb") as f:
        open(ready, "w").close()
        while not stop:
            try:
                data = s.recv(1 << 17)
            except socket.timeout:
                continue
            f.write(struct.pack("<I", len(data)) + data)
            n += 1
    pk, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    print("packets %d drops %d" % (n, drops))


def regions(pid):
    rss = {}
    cur = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if m:
                cur = (int(m.group(1), 16), int(m.group(2), 16), m.group(3))
                rss[cur] = 0
            elif line.startswith("Rss:") and cur is not None:
                rss[cur] = int(line.split()[1])
    return [r for r, kb in rss.items() if kb > 0 and r[2][0] == "r" and r[1] - r[0] <= BIG]


def filescan(needle, paths):
    found = False
    for top in paths:
        files = [top]
        if os.path.isdir(top):
            files = [os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs]
        for f in files:
            try:
                with open(f, "rb") as fh:
                    if needle in fh.read():
                        print("file %s" % f)
                        found = True
            except OSError:
                continue
    sys.exit(1 if found else 0)


def needle_of(arg):
    if arg.startswith("@"):
        with open(arg[1:], "rb") as f:
            return f.read()
    return arg.encode()


def memscan(needle, pids):
    found = False
    for pid in pids:
        try:
            regs = regions(pid)
            mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
        except OSError as e:
            print("cannot read process %d: %s" % (pid, e))
            sys.exit(2)
        for lo, hi, perm in regs:
            step = 16 << 20
            for at in range(lo, hi, step):
                n = min(step + len(needle), hi - at)
                try:
                    mem.seek(at)
                    data = mem.read(n)
                except OSError:
                    continue
                i = data.find(needle)
                if i >= 0:
                    print("process %d: at 0x%x (%s)" % (pid, at + i, perm))
                    found = True
                    break
        mem.close()
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "capture":
        capture(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "memscan":
        memscan(needle_of(sys.argv[2]), [int(p) for p in sys.argv[3:]])
    elif len(sys.argv) >= 4 and sys.argv[1] == "filescan":
        filescan(needle_of(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
