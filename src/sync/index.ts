/**
 * The sync layer's surface for the layers above it (redis/ reuses asyncio.Queue's errors). Users
 * import the public names from the package entry, `src/index.ts`.
 * @module
 */
export { QueueEmpty, QueueFull, QueueShutDown, getsUntilShutDown } from "./queues.ts";
