"""Python websockets (Debian's python3-websockets) echo server for the aiots interop test.

Prints its port on the first stdout line. Path /echo echoes, /close-4000 closes with 4000 "bye",
/extensions sends the negotiated Sec-WebSocket-Extensions back. compression=None with argument "plain".
"""
import asyncio
import sys

import websockets


async def handler(ws, path):
    if path == "/close-4000":
        await ws.close(4000, "bye")
        return
    if path == "/extensions":
        await ws.send(ws.response_headers.get("Sec-WebSocket-Extensions", ""))
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    compression = None if "plain" in sys.argv[1:] else "deflate"
    async with websockets.serve(handler, "127.0.0.1", 0, compression=compression, max_size=2**22) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
