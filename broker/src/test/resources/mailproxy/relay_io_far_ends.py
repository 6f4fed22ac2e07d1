"""The far ends of RelayIoBench, in processes of their own so they are not in the relays' JVM.

usage: relay_io_far_ends.py sink CERT KEY
  A TLS "mail server": prints "UPSTREAM <port>"; on each connection answers "PING" with "PONG"
  and "UPLOAD <n>" followed by n bytes with "OK <n>" once all n have arrived. Runs until killed.
usage: relay_io_far_ends.py clients CERT
  Reads commands on stdin, one a line, and answers each with one line on stdout:
  "idle PORT N"     opens N TLS connections to PORT, each says PING and waits for PONG (so each is
                    relayed end to end), keeps them open and quiet; answers "READY N"
  "close"           closes the idle connections; answers "CLOSED"
  "upload PORT MB"  one new TLS connection to PORT sends "UPLOAD n" and MB megabytes, timed from the
                    first byte of the upload to the sink's "OK"; answers "SECONDS <s>"
"""
import asyncio
import os
import socket
import ssl
import sys
import time


async def sink(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    async def serve(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line == b"PING\n":
                    writer.write(b"PONG\n")
                elif line.startswith(b"UPLOAD "):
                    left = int(line.split()[1])
                    while left > 0:
                        chunk = await reader.read(min(left, 1 << 20))
                        if not chunk:
                            return
                        left -= len(chunk)
                    writer.write(b"OK\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context, backlog=2048, limit=1 << 20)
    print("UPSTREAM", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def clients(cert):
    context = ssl.create_default_context(cafile=cert)
    idle = []
    payload = os.urandom(1 << 20)

    def connect(port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=120)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return context.wrap_socket(raw, server_hostname="localhost")

    async def open_idle(port, count):
        gate = asyncio.Semaphore(32)

        async def one():
            async with gate:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost")
                writer.write(b"PING\n")
                await writer.drain()
                if await reader.readline() != b"PONG\n":
                    raise SystemExit("no PONG through the relay")
                idle.append(writer)

        await asyncio.gather(*(one() for _ in range(count)))

    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        words = line.split()
        if words[0] == "idle":
            loop.run_until_complete(open_idle(int(words[1]), int(words[2])))
            print("READY", len(idle), flush=True)
        elif words[0] == "close":
            for writer in idle:
                writer.close()
            loop.run_until_complete(asyncio.sleep(0.5))
            idle.clear()
            print("CLOSED", flush=True)
        elif words[0] == "upload":
            size = int(words[2]) * 1_000_000
            sock = connect(int(words[1]))
            sock.sendall(b"PING\n")
            reader = sock.makefile("rb")
            assert reader.readline() == b"PONG\n"
            started = time.perf_counter()
            sock.sendall(b"UPLOAD %d\n" % size)
            left = size
            while left > 0:
                chunk = payload[:min(left, len(payload))]
                sock.sendall(chunk)
                left -= len(chunk)
            answer = reader.readline()
            seconds = time.perf_counter() - started
            if answer != b"OK\n":
                raise SystemExit(f"upload answered {answer!r}")
            sock.close()
            print("SECONDS", seconds, flush=True)


if sys.argv[1] == "sink":
    asyncio.run(sink(sys.argv[2], sys.argv[3]))
else:
    clients(sys.argv[2])
