"""Python websockets echo server: server_websockets.py <deflate|plain>, keepalive off.
Port on the first stdout line; runs until killed."""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    compression = None if "plain" in sys.argv[1:] else "deflate"
    async with websockets.serve(echo, "127.0.0.1", 0, ping_interval=None, compression=compression) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
