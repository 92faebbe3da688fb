# An application already serving many TCP ports (one process): what `test_page: false` real
# servers stand for in the lab's large runs. Each HTTP request gets the host's name and the
# port. Usage: python3 app.py FIRST_PORT COUNT PIDFILE
import os, selectors, socket, sys

first, count, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
name = socket.gethostname()
selector = selectors.DefaultSelector()
for port in range(first, first + count):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(128)
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ, port)
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\n")
while True:
    for key, _ in selector.select():
        try:
            conn, _ = key.fileobj.accept()
        except BlockingIOError:
            continue
        try:
            conn.settimeout(2)
            conn.recv(4096)
            body = f"app on {name} port {key.data}\n".encode()
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        finally:
            conn.close()
