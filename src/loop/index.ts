/**
 * The loop layer's surface for dev tools: the Node-backed `EventLoop`.
 * @module
 */
export { EventLoop, type Wakeup } from "./base-events.ts";
