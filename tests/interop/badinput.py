#!/usr/bin/python3
"""badinput.py HOST PORT — sends malformed input to an octo node and checks that the node
drops each bad connection by itself (it closes the socket within a few seconds) instead of
hanging or crashing. The caller then checks that the node still serves a good peer.
Loopback only; every socket has a timeout; prints "N passed, N failed"."""
import os
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
passed = failed = 0


def mss(text):
    data = text.encode() + b"\n"
    assert len(data) < 128
    return bytes([len(data)]) + data


def closed_by_node(name, payload, timeout=5.0):
    """Sends payload; the node must close the connection (EOF or reset) within timeout."""
    global passed, failed
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(payload)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
        ok = True
    except ConnectionResetError:
        ok = True
    except socket.timeout:
        ok = False
    except BrokenPipeError:
        ok = True
    finally:
        s.close()
    if ok:
        passed += 1
        print("ok - node closed:", name)
    else:
        failed += 1
        print("not ok - node kept the connection open:", name)


closed_by_node("random bytes", os.urandom(4096))
closed_by_node("wrong multistream header", mss("/multistream/2.0.0") + mss("/noise"))
closed_by_node("oversize multistream length", b"\xff\xff\x03" + b"a" * 64)
closed_by_node("40 unsupported proposals (over the proposal limit)",
               mss("/multistream/1.0.0") + b"".join(mss(f"/nope/{i}") for i in range(40)))
hdr = mss("/multistream/1.0.0") + mss("/noise")
closed_by_node("noise message 1 too short", hdr + b"\x00\x05hello")
closed_by_node("noise garbage frames", hdr + b"\x00\x20" + os.urandom(32) + b"\xff\xff" +
               os.urandom(65535))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
