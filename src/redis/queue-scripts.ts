/**
 * The Lua scripts behind `RedisQueue`: each queue operation is one atomic script, so the counters
 * that asyncio.Queue keeps in memory (items waiting, items unfinished) stay exact across processes.
 *
 * Keys, for queue `base` = `aiots:queue:{<name>}` (the braces keep every key in one cluster slot):
 * - `base:groups`      set of consumer-group names; every group gets its own copy of each item
 * - `base:s:<group>`   the group's stream of items (field `d`: the JSON text); an entry is deleted
 *                      when it is acknowledged, so the stream holds only waiting and taken items
 * - `base:g:<group>`   hash: `size` (put, not yet taken), `unfinished` (put, not yet acknowledged),
 *                      `cursor` (where the XAUTOCLAIM scan for expired items resumes), `claimAt`
 *                      (ms; no new scan before it, once a scan found nothing)
 * - `base:meta`        hash: `waiters` (putters and joiners waiting for an event, any group)
 * - `base:e`           stream of events (`k`: space | idle | returned | shutdown), capped near 100,
 *                      written only when someone waits for them; waiting clients XREAD it
 * - `base:shutdown`    "1" after shutdown(), "2" after shutdown(true)
 * - `base:put:<token>` the id a put got, kept for a while so that a put sent again after a lost
 *                      connection is not stored twice
 * @module
 */

// Shared prelude: the last id of a stream, "0-0" when it is empty (XREAD from it waits for any entry).
const LAST_ID = `
local function lastId(key)
  local r = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if r[1] then return r[1][1] end
  return '0-0'
end
local function event(base, kind)
  redis.call('XADD', base .. ':e', 'MAXLEN', '~', 100, '*', 'k', kind)
end
local function waiting(base)
  return tonumber(redis.call('HGET', base .. ':meta', 'waiters') or '0') > 0
end
`;

/** A script and its name (for error messages). */
export interface Script {
  readonly name: string;
  readonly source: string;
}

function script(name: string, body: string): Script {
  return { name, source: LAST_ID + body };
}

/**
 * ARGV: base, group, consumer. Registers the group and creates its stream; returns the shutdown state.
 */
export const REGISTER = script("register", `
local base, g = ARGV[1], ARGV[2]
redis.call('SADD', base .. ':groups', g)
local ok = pcall(redis.call, 'XGROUP', 'CREATE', base .. ':s:' .. g, g, '0', 'MKSTREAM')
return redis.call('GET', base .. ':shutdown') or '0'
`);

/**
 * ARGV: base, json, maxsize, token, tokenTtlMs, wasWaiting (1 after a wait), willWait (1: count a
 * waiter on "full"). Returns {"ok", id} | {"full", lastEventId} | {"shutdown"}.
 */
export const PUT = script("put", `
local base = ARGV[1]
if ARGV[6] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', -1) end
if redis.call('GET', base .. ':shutdown') then return {'shutdown'} end
local tokenKey = base .. ':put:' .. ARGV[4]
local prior = redis.call('GET', tokenKey)
if prior then return {'ok', prior} end
local groups = redis.call('SMEMBERS', base .. ':groups')
local maxsize = tonumber(ARGV[3])
if maxsize > 0 then
  for _, g in ipairs(groups) do
    if tonumber(redis.call('HGET', base .. ':g:' .. g, 'size') or '0') >= maxsize then
      if ARGV[7] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', 1) end
      return {'full', lastId(base .. ':e')}
    end
  end
end
local id = ''
for _, g in ipairs(groups) do
  id = redis.call('XADD', base .. ':s:' .. g, '*', 'd', ARGV[2])
  redis.call('HINCRBY', base .. ':g:' .. g, 'size', 1)
  redis.call('HINCRBY', base .. ':g:' .. g, 'unfinished', 1)
end
redis.call('SET', tokenKey, id, 'PX', ARGV[5])
return {'ok', id}
`);

/**
 * ARGV: base, group, consumer, visibilityMs. Takes one item: first an expired one (taken by a
 * consumer that has not acknowledged or renewed it for visibilityMs), else the next new one.
 * Returns {"item", id, json} | {"empty", lastItemId, lastEventId} | {"shutdown"}.
 */
export const TAKE = script("take", `
local base, g, me = ARGV[1], ARGV[2], ARGV[3]
local s, m = base .. ':s:' .. g, base .. ':g:' .. g
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
    if e then return {'item', e[1], e[2][2]} end
    -- Scan finished (cursor back to 0-0) without a find: wait before the next scan.
    if c[1] == '0-0' then redis.call('HSET', m, 'claimAt', now + math.floor(tonumber(ARGV[4]) / 4)) end
  end
  local r = redis.call('XREADGROUP', 'GROUP', g, me, 'COUNT', 1, 'STREAMS', s, '>')
  if r then
    e = r[1][2][1]
    redis.call('HINCRBY', m, 'size', -1)
    if waiting(base) then event(base, 'space') end
    return {'item', e[1], e[2][2]}
  end
end
if state then return {'shutdown'} end
return {'empty', lastId(s), lastId(base .. ':e')}
`);

/** ARGV: base, group, id. Acknowledges one item; returns 1 if this call acknowledged it, 0 if it already was. */
export const DONE = script("done", `
local base, g, id = ARGV[1], ARGV[2], ARGV[3]
local s, m = base .. ':s:' .. g, base .. ':g:' .. g
local n = redis.call('XACK', s, g, id)
if n == 1 then
  redis.call('XDEL', s, id)
  local left = redis.call('HINCRBY', m, 'unfinished', -1)
  if left <= 0 and waiting(base) then event(base, 'idle') end
end
return n
`);

/** ARGV: base, group, wasWaiting, willWait. Returns {"done"} | {"wait", lastEventId}. */
export const JOIN = script("join", `
local base, g = ARGV[1], ARGV[2]
if ARGV[3] == '1' then redis.call('HINCRBY', base .. ':meta', 'waiters', -1) end
if tonumber(redis.call('HGET', base .. ':g:' .. g, 'unfinished') or '0') <= 0 then return {'done'} end
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
local m = ARGV[1] .. ':g:' .. ARGV[2]
return {tonumber(redis.call('HGET', m, 'size') or '0'), tonumber(redis.call('HGET', m, 'unfinished') or '0')}
`);

/**
 * ARGV: base, group, consumer, ids... Renews the items this consumer still owns (their idle time
 * goes back to 0), so a live consumer's slow work is not delivered again; returns how many.
 */
export const RENEW = script("renew", `
local base, g, me = ARGV[1], ARGV[2], ARGV[3]
local s = base .. ':s:' .. g
local n = 0
for i = 4, #ARGV do
  local p = redis.call('XPENDING', s, g, ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == me then
    redis.call('XCLAIM', s, g, me, 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n
`);

/**
 * ARGV: base, group, consumer, id. Gives back an item whose get() was cancelled after Redis had
 * handed it over: it becomes expired at once (idle time set far past any visibility timeout) and
 * the claim scan restarts, so the next take anywhere gets it first; waiting getters are woken.
 */
export const GIVE_BACK = script("give-back", `
local base, g, me, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local s = base .. ':s:' .. g
local p = redis.call('XPENDING', s, g, id, id, 1)
if not (p[1] and p[1][2] == me) then return 0 end
redis.call('XCLAIM', s, g, me, 0, id, 'IDLE', 1000000000000, 'JUSTID')
redis.call('HSET', base .. ':g:' .. g, 'cursor', '0-0', 'claimAt', '0')
event(base, 'returned')
return 1
`);

/**
 * ARGV: base, immediate (1|0). Marks the queue shut down for every instance and wakes all waiters.
 * With immediate, each group's items not yet taken are dropped and count as done for join().
 */
export const SHUTDOWN = script("shutdown", `
local base = ARGV[1]
if ARGV[2] == '1' then
  redis.call('SET', base .. ':shutdown', '2')
  for _, g in ipairs(redis.call('SMEMBERS', base .. ':groups')) do
    local s, m = base .. ':s:' .. g, base .. ':g:' .. g
    local r = redis.call('XREADGROUP', 'GROUP', g, '-aiots-shutdown-', 'STREAMS', s, '>')
    local n = 0
    if r then
      for _, e in ipairs(r[1][2]) do
        redis.call('XACK', s, g, e[1])
        redis.call('XDEL', s, e[1])
        n = n + 1
      end
    end
    redis.call('XGROUP', 'DELCONSUMER', s, g, '-aiots-shutdown-')
    redis.call('HINCRBY', m, 'size', 0 - n)
    redis.call('HINCRBY', m, 'unfinished', 0 - n)
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
