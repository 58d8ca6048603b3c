import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { run, getRunningLoop, AI_CANONNAME } from "../../src/index.ts";
import { parseServices } from "../../src/net/address-names.ts";

void test("getaddrinfo() takes service names, as the C library (checked against Python's socket.getservbyname)", async () => {
  const names = ["http", "https", "ssh", "smtp", "imaps", "postgresql"];
  const python = JSON.parse(
    execFileSync("/usr/bin/python3", ["-c", `import json, socket; print(json.dumps([socket.getservbyname(n, "tcp") for n in ${JSON.stringify(names)}]))`], { encoding: "utf8" }),
  ) as number[];
  await run(async () => {
    const loop = getRunningLoop();
    for (const [i, name] of names.entries()) {
      const infos = await loop.getaddrinfo("127.0.0.1", name);
      assert.deepEqual(infos[0]![4], ["127.0.0.1", python[i]], name);
    }
    assert.equal((await loop.getaddrinfo("127.0.0.1", "HTTP"))[0]![4][1], 80);
    assert.equal((await loop.getaddrinfo("127.0.0.1", "8080"))[0]![4][1], 8080);
    // SOCK_DGRAM: the UDP entry.
    assert.equal((await loop.getaddrinfo("127.0.0.1", "domain", { type: 2 }))[0]![4][1], 53);
    await assert.rejects(loop.getaddrinfo("127.0.0.1", "no-such-service"), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, "EAI_SERVICE");
      assert.match(e.message, /unknown service "no-such-service".*pass a port number/);
      return true;
    });
    await assert.rejects(loop.getaddrinfo("127.0.0.1", 70000), TypeError);
    await assert.rejects(loop.getaddrinfo("127.0.0.1", 80, { flags: 1 << 20 }), /flags must combine AI_CANONNAME/);
  });
});

void test("getaddrinfo() with AI_CANONNAME fills canonname in the first result", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const local = await loop.getaddrinfo("localhost", "http", { flags: AI_CANONNAME });
    assert.equal(local[0]![3], "localhost");
    assert.equal(local[0]![4][1], 80);
    assert.ok(local.slice(1).every((info) => info[3] === ""));
    const numeric = await loop.getaddrinfo("127.0.0.1", 80, { flags: AI_CANONNAME });
    assert.equal(numeric[0]![3], "127.0.0.1");
    assert.equal((await loop.getaddrinfo("127.0.0.1", 80))[0]![3], "");
  });
});

void test("/etc/services parsing: names, aliases, protocols, comments", () => {
  const table = parseServices("# comment\nhttp\t\t80/tcp\t\twww # WorldWideWeb\ndomain 53/tcp\ndomain 53/udp\nbroken line\n");
  assert.equal(table.get("http/tcp"), 80);
  assert.equal(table.get("www/tcp"), 80);
  assert.equal(table.get("domain/udp"), 53);
  assert.equal(table.get("broken/tcp"), undefined);
});
