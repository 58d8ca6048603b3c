/**
 * aiots/testing: tools for testing aiots programs. This file only re-exports.
 * @module
 */
export { VirtualTimeLoop, type VirtualTimeLoopOptions } from "./dev/virtual-time-loop.ts";
