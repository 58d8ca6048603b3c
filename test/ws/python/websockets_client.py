"""Python websockets client against an aiots/ws server: prints one JSON object of what it saw.

Usage: websockets_client.py <ws-url> [plain]
"""
import asyncio
import json
import sys

import websockets


async def main():
    url = sys.argv[1]
    compression = None if "plain" in sys.argv[2:] else "deflate"
    out = {}
    async with websockets.connect(url, compression=compression, max_size=2**22) as ws:
        out["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        await ws.send("hello from python")
        out["text"] = await ws.recv()
        await ws.send(b"\x00\x01\x02")
        out["binary"] = list(await ws.recv())
        big = "python " * 40000
        await ws.send(big)
        out["big_ok"] = (await ws.recv()) == big
        await ws.send(["frag", "ment", "ed"])  # one fragmented message
        out["fragmented"] = await ws.recv()
        await asyncio.wait_for(await ws.ping(b"py"), 10)  # the pong came back
        out["pong_rtt_ok"] = True
        await ws.close(4001, "python says bye")
        out["close_code"] = ws.close_code
    print(json.dumps(out), flush=True)


asyncio.run(main())
