"""CPython echo server in vmbench's shape: server_asyncio.py <streams|protocol> [uvloop].

Streams: start_server, read(100 KiB), write, no drain (as vmbench's streams server). Protocol:
write from data_received. TCP_NODELAY on (asyncio sets it on TCP transports since 3.7). Prints its
port, then serves until killed.
"""
import asyncio
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(102400)
            if not data:
                break
            writer.write(data)
    except ConnectionError:
        pass  # the load client resets its connections when its time is up
    writer.close()


async def main(mode):
    loop = asyncio.get_running_loop()
    if mode == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", 0)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode not in ("streams", "protocol"):
        sys.exit(f"mode must be streams or protocol, got {mode}")
    if len(sys.argv) > 2 and sys.argv[2] == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(main(mode))
