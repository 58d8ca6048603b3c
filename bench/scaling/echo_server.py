"""Echo server on asyncio streams (or uvloop with the argument "uvloop") for the connection-scaling
cases: reads, writes back, awaits drain() after every write. Port on the first stdout line; runs
until killed."""
import asyncio
import sys


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if "uvloop" in sys.argv[1:]:
    import uvloop

    uvloop.install()
asyncio.run(main())
