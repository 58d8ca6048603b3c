"""aiohttp hello-world server (uvloop with the argument "uvloop"). Port on the first stdout line;
runs until killed."""
import asyncio
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def main():
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if "uvloop" in sys.argv[1:]:
    import uvloop

    uvloop.install()
asyncio.run(main())
