/**
 * aiots/redis: asyncio.Queue's API on Redis Streams (`RedisQueue`) and an `app.channels` backend on
 * Redis pub/sub (`redisChannels`), to span worker processes and machines. Needs the optional peer
 * dependency `redis` (node-redis). This file only re-exports.
 * @module
 */
export { RedisQueue, type RedisQueueOptions } from "./redis/queue.ts";
export { RedisChannels, redisChannels, type RedisChannelsOptions } from "./redis/channels.ts";
export type { RedisConnectOptions } from "./redis/connection.ts";
