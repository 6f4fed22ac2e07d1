"""The far ends of IdleSessionsMemoryBench, in a process of their own so they do not count in its heap.

usage: idle_far_ends.py PROXY_PORT CERT KEY COUNT
Starts a TLS "mail server" on a free port and prints "UPSTREAM <port>", then reads one line from
stdin (the proxy is ready), opens COUNT TLS client connections to PROXY_PORT that stay idle, prints
"READY", and keeps them until stdin closes.
"""
import asyncio
import ssl
import sys

proxy_port, cert, key, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
upstreams = []
clients = []


async def upstream(reader, writer):
    upstreams.append(writer)
    await reader.read()  # idle until the relay closes


async def main():
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = await asyncio.start_server(upstream, "127.0.0.1", 0, ssl=server_context, backlog=1024)
    print("UPSTREAM", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    client_context = ssl.create_default_context(cafile=cert)
    gate = asyncio.Semaphore(32)

    async def connect():
        async with gate:
            clients.append(await asyncio.open_connection("127.0.0.1", proxy_port, ssl=client_context,
                                                         server_hostname="localhost"))

    await asyncio.gather(*(connect() for _ in range(count)))
    while len(upstreams) < count:
        await asyncio.sleep(0.1)
    print("READY", len(clients), len(upstreams), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
