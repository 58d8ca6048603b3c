"""CPython asyncio (or uvloop) peer of the subprocess suite: the same work as aiots.ts.

usage: asyncio_peer.py to-thread|spawn N [uvloop]
  to-thread N: N sequential asyncio.to_thread(lambda x: x + 1, i) round trips (default executor).
  spawn N:     N sequential create_subprocess_exec("echo", "hello", stdout=PIPE) + communicate().
A 10% warm-up runs first, untimed. Prints the harness report line (ms).
"""
import asyncio
import json
import resource
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "to-thread"
n = int(sys.argv[2]) if len(sys.argv) > 2 else (200 if mode == "spawn" else 10_000)
use_uvloop = "uvloop" in sys.argv[3:]


def add_one(x):
    return x + 1


async def round_trips(count):
    for i in range(count):
        value = await asyncio.to_thread(add_one, i)
        if value != i + 1:
            raise RuntimeError(f"wrong result {value}")


async def spawns(count):
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec("echo", "hello", stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        if out != b"hello\n" or proc.returncode != 0:
            raise RuntimeError("unexpected child output")


async def main():
    work = spawns if mode == "spawn" else round_trips
    await work(max(1, n // 10))
    start = time.perf_counter()
    await work(n)
    return (time.perf_counter() - start) * 1000


if use_uvloop:
    import uvloop

    uvloop.install()
ms = asyncio.run(main())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"value": ms, "rssBytes": peak}))
