#!/usr/bin/env python3
"""One HTTP request per flow through the VIP, each flow its own (source address, source port),
in a fixed order: prints one line per flow, `ADDRESS:PORT ANSWER` (the RealServerN of the page,
or `none`). Connections end with a reset (SO_LINGER 0), so that no TIME_WAIT keeps the same
flow from being made again by the next pass.
usage: flows.py VIP COUNT FIRST_PORT SOURCE...
"""
import re
import socket
import struct
import sys

vip, count, first_port, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
answer = re.compile(rb"RealServer[0-9]+")
for i in range(count):
    source, port = sources[i % len(sources)], first_port + i // len(sources)
    found = "none"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.settimeout(3)
    try:
        s.bind((source, port))
        s.connect((vip, 80))
        s.sendall(b"GET / HTTP/1.0\r\nHost: " + vip.encode() + b"\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        match = answer.search(data)
        found = match.group(0).decode() if match else "none"
    except OSError:
        pass
    finally:
        s.close()
    print(f"{source}:{port} {found}")
