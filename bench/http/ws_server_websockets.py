"""Python websockets echo server (uvloop with the argument "uvloop"), keepalive pings off.
Port on the first stdout line; runs until killed."""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass  # the load client drops its connections at the end without a close handshake


async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, ping_interval=None, compression=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Event().wait()


if "uvloop" in sys.argv[1:]:
    import uvloop

    uvloop.install()
asyncio.run(main())
