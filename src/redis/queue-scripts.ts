/**
 * The Lua scripts behind `RedisQueue`: each queue operation that must be atomic is one script, so
 * the counts that asyncio.Queue keeps in memory (items waiting, items unfinished) stay exact across
 * processes. The one operation that is not a script is the blocking take (`XREADGROUP ... BLOCK`
 * on its own connection, see queue-reader.ts): a script cannot block.
 *
 * Keys, for queue `base` = `aiots:queue:{<name>}` (the braces keep every key in one cluster slot):
 * - `base:groups`      set of consumer-group names; every group gets its own copy of each item
 * - `base:s:<group>`   the group's stream of items (field `d`: the JSON text); an entry is deleted
 *                      in the same script that acknowledges it, so the stream holds exactly the
 *                      items waiting or taken and not acknowledged: `XLEN` is the `join()` count
 *                      (unfinished) and `XLEN` minus the group's pending count is `qsize()`, both
 *                      exact whoever took the items and however (a blocking read runs no script)
 * - `base:g:<group>`   hash: `cursor` (where the XAUTOCLAIM scan for expired items resumes),
 *                      `claimAt` (ms; no new scan before it, once a scan found nothing)
 * - `base:meta`        hash: `waiters` (putters and joiners waiting for an event, any group)
 * - `base:e`           stream of events (`k`: space | idle | returned | shutdown), capped near 100,
 *                      written only when someone waits for them (returned and shutdown: always);
 *                      waiting clients XREAD it
 * - `base:shutdown`    "1" after shutdown(), "2" after shutdown(true)
 * - `base:put:<instance>` hash: slot -> token of that instance's puts, so that a put sent again
 *                      after a lost connection is not stored twice. A slot is held by one put in
 *                      flight and reused by a later one, so the hash stays as small as the most
 *                      puts the instance had in flight at once (a key per put, with an expiry,
 *                      made the put script's cost double); it expires a while after the last put
 * @module
 */

// Given-back items are idle for at least this long (ms): a billion seconds, more than any real wait.
const GIVEN_BACK_IDLE = "1000000000000";

// Helpers a script may use. Each script's text defines only the ones its body calls (found by name,
// so the list cannot drift from the body): a \`local function\` is a closure made on every call, and
// the per-item scripts (put, done) run once per item.
const HELPERS = {
  lastId: `
local function lastId(key)
  local r = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if r[1] then return r[1][1] end
  return '0-0'
end`,
  event: `
local function event(base, kind)
  redis.call('XADD', base .. ':e', 'MAXLEN', '~', 100, '*', 'k', kind)
end`,
  waiting: `
local function waiting(base)
  return tonumber(redis.call('HGET', base .. ':meta', 'waiters') or '0') > 0
end`,
  size: `
local function size(s, g)
  return redis.call('XLEN', s) - redis.call('XPENDING', s, g)[1]
end`,
} as const;

const HELPER_NAMES = Object.keys(HELPERS) as Array<keyof typeof HELPERS>;

/**
 * Lua that XCLAIMs each id of ARGV[4..] that consumer `me` of stream `s`, group `g` still owns
 * (with `options` before JUSTID) and counts them in `n`. Written into the script's text, not the
 * prelude, so the scripts that do not need it define nothing more per call.
 */
function claimOwned(options: string): string {
  return `local n = 0
for i = 4, #ARGV do
  local p = redis.call('XPENDING', s, g, ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == me then
    redis.call('XCLAIM', s, g, me, 0, ARGV[i], ${options}'JUSTID')
    n = n + 1
  end
end`;
}

/** A script and its name (for error messages). */
export interface Script {
  readonly name: string;
  readonly source: string;
}

function script(name: string, body: string): Script {
  const used = HELPER_NAMES.filter((helper) => new RegExp(`\\b${helper}\\(`).test(body));
  return { name, source: used.map((helper) => HELPERS[helper]).join("") + body };
}

/**
 * ARGV: base, group, consumer. Registers the group and creates its stream; returns {shutdown
 * state ("0" | "1" | "2"), last event id}: the state as of that event.
 */
export const REGISTER = script("register", `
local base, g = ARGV[1], ARGV[2]
redis.call('SADD', base .. ':groups', g)
pcall(redis.call, 'XGROUP', 'CREATE', base .. ':s:' .. g, g, '0', 'MKSTREAM')
return {redis.call('GET', base .. ':shutdown') or '0', lastId(base .. ':e')}
`);

/**
 * ARGV: base, json, maxsize, ring (the instance's `put:` key suffix), slot, token, ringTtlMs,
 * refresh (1: set the ring's expiry), wasWaiting (1 after a wait), willWait (1: count a waiter on
 * "full"), resent (1: this very command may have run already, its reply lost with a connection).
 * Returns {"ok"} | {"full", lastEventId} | {"shutdown"}. The token is looked up only when resent: a
 * first send cannot have stored its item yet, so it needs no lookup.
 */
export const PUT = script("put", `
local base = ARGV[1]
if ARGV[9] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', -1) end
if redis.call('GET', base .. ':shutdown') then return {'shutdown'} end
local ring = base .. ':put:' .. ARGV[4]
if ARGV[11] == '1' and redis.call('HGET', ring, ARGV[5]) == ARGV[6] then return {'ok'} end
local groups = redis.call('SMEMBERS', base .. ':groups')
local maxsize = tonumber(ARGV[3])
if maxsize > 0 then
  for _, g in ipairs(groups) do
    if size(base .. ':s:' .. g, g) >= maxsize then
      if ARGV[10] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', 1) end
      return {'full', lastId(base .. ':e')}
    end
  end
end
for _, g in ipairs(groups) do
  redis.call('XADD', base .. ':s:' .. g, '*', 'd', ARGV[2])
end
-- A new field may mean a new key: it gets its expiry at once, whatever the client asked.
if redis.call('HSET', ring, ARGV[5], ARGV[6]) == 1 or ARGV[8] == '1' then redis.call('PEXPIRE', ring, ARGV[7]) end
return {'ok'}
`);

/**
 * ARGV: base, group, consumer, visibilityMs, taken (1: this consumer took items by blocking reads
 * since its last script, so putters waiting for room are told). Takes one item without blocking:
 * first an expired one (taken by a consumer that has not acknowledged or renewed it for
 * visibilityMs), else the next new one. Returns {"item", id, json, "claimed" | "new"} | {"empty"} |
 * {"shutdown", "1" | "2"}.
 */
export const TAKE = script("take", `
local base, g, me = ARGV[1], ARGV[2], ARGV[3]
local s, m = base .. ':s:' .. g, base .. ':g:' .. g
if ARGV[5] == '1' and waiting(base) then event(base, 'space') end
local state = redis.call('GET', base .. ':shutdown')
if state ~= '2' then
  -- The scan for expired items runs at most every quarter visibility timeout per group (or at once
  -- after a give-back), not on every take: scanning the pending list is most of a take's cost.
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local e
  if now >= tonumber(redis.call('HGET', m, 'claimAt') or '0') then
    local cursor = redis.call('HGET', m, 'cursor') or '0-0'
    local c = redis.call('XAUTOCLAIM', s, g, me, ARGV[4], cursor, 'COUNT', 1)
    redis.call('HSET', m, 'cursor', c[1])
    e = c[2][1]
    if e then return {'item', e[1], e[2][2], 'claimed'} end
    -- Scan finished (cursor back to 0-0) without a find: wait before the next scan.
    if c[1] == '0-0' then redis.call('HSET', m, 'claimAt', now + math.floor(tonumber(ARGV[4]) / 4)) end
  end
  local r = redis.call('XREADGROUP', 'GROUP', g, me, 'COUNT', 1, 'STREAMS', s, '>')
  if r then
    e = r[1][2][1]
    if waiting(base) then event(base, 'space') end
    return {'item', e[1], e[2][2], 'new'}
  end
end
if state then return {'shutdown', state} end
return {'empty'}
`);

/**
 * ARGV: base, group, taken (as for TAKE), id. Acknowledges one item (and deletes it); returns 1 if
 * this call acknowledged it, 0 if it already was.
 */
export const DONE = script("done", `
local base, g, id = ARGV[1], ARGV[2], ARGV[4]
local s = base .. ':s:' .. g
local n = redis.call('XACK', s, g, id)
if n == 1 then redis.call('XDEL', s, id) end
if (ARGV[3] == '1' or (n == 1 and redis.call('XLEN', s) == 0)) and waiting(base) then
  event(base, ARGV[3] == '1' and 'space' or 'idle')
end
return n
`);

/** ARGV: base, taken = "1". Tells putters waiting for room that this consumer took items by blocking reads. */
export const TAKEN = script("taken", `
if waiting(ARGV[1]) then event(ARGV[1], 'space') end
return 1
`);

/** ARGV: base, group, wasWaiting, willWait. Returns {"done"} | {"wait", lastEventId}. */
export const JOIN = script("join", `
local base, g = ARGV[1], ARGV[2]
if ARGV[3] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', -1) end
if redis.call('XLEN', base .. ':s:' .. g) == 0 then return {'done'} end
if ARGV[4] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', 1) end
return {'wait', lastId(base .. ':e')}
`);

/** ARGV: base. A waiter that gave up (cancelled) un-counts itself. */
export const UNWAIT = script("unwait", `
redis.call('HINCRBY', ARGV[1] .. ':meta', 'waiters', -1)
return 1
`);

/** ARGV: base, group. Returns {size, unfinished}. */
export const SIZES = script("sizes", `
local s = ARGV[1] .. ':s:' .. ARGV[2]
return {size(s, ARGV[2]), redis.call('XLEN', s)}
`);

/**
 * ARGV: base, group, consumer, ids... Renews the items this consumer still owns (their idle time
 * goes back to 0), so a live consumer's slow work is not delivered again; returns how many.
 */
export const RENEW = script("renew", `
local base, g, me = ARGV[1], ARGV[2], ARGV[3]
local s = base .. ':s:' .. g
${claimOwned("")}
return n
`);

/**
 * ARGV: base, group, consumer, ids... Gives back items this consumer took for a get() that is no
 * longer there (cancelled after Redis had handed the item over): each becomes expired at once
 * (idle time set far past any visibility timeout) and the claim scan restarts, so the next take
 * anywhere gets it first; a "returned" event wakes the waiting getters. Returns how many.
 */
export const GIVE_BACK = script("give-back", `
local base, g, me = ARGV[1], ARGV[2], ARGV[3]
local s = base .. ':s:' .. g
${claimOwned(`'IDLE', ${GIVEN_BACK_IDLE}, `)}
if n > 0 then
  redis.call('HSET', base .. ':g:' .. g, 'cursor', '0-0', 'claimAt', '0')
  event(base, 'returned')
end
return n
`);

/**
 * ARGV: base, immediate (1|0). Marks the queue shut down for every instance and wakes all waiters.
 * With immediate, each group's items not yet taken (new ones, and given-back ones: taken for a
 * get() that was gone) are dropped, which counts them done for join().
 */
export const SHUTDOWN = script("shutdown", `
local base = ARGV[1]
if ARGV[2] == '1' then
  redis.call('SET', base .. ':shutdown', '2')
  for _, g in ipairs(redis.call('SMEMBERS', base .. ':groups')) do
    local s = base .. ':s:' .. g
    local r = redis.call('XREADGROUP', 'GROUP', g, '-aiots-shutdown-', 'STREAMS', s, '>')
    if r then
      for _, e in ipairs(r[1][2]) do
        redis.call('XACK', s, g, e[1])
        redis.call('XDEL', s, e[1])
      end
    end
    redis.call('XGROUP', 'DELCONSUMER', s, g, '-aiots-shutdown-')
    for _, p in ipairs(redis.call('XPENDING', s, g, 'IDLE', ${GIVEN_BACK_IDLE}, '-', '+', 1000000)) do
      redis.call('XACK', s, g, p[1])
      redis.call('XDEL', s, p[1])
    end
  end
elseif not redis.call('GET', base .. ':shutdown') then
  redis.call('SET', base .. ':shutdown', '1')
end
event(base, 'shutdown')
return 1
`);

/** ARGV: base, group, consumer. Removes this consumer from its group when it holds nothing. */
export const RELEASE = script("release", `
local s = ARGV[1] .. ':s:' .. ARGV[2]
local p = redis.call('XPENDING', s, ARGV[2], '-', '+', 1, ARGV[3])
if p[1] then return 0 end
redis.call('XGROUP', 'DELCONSUMER', s, ARGV[2], ARGV[3])
return 1
`);
