/**
 * The developer tools' surface for the CLI: task tables and the inspection socket.
 * @module
 */
export { type TaskRow } from "./graph.ts";
export { type InspectionReply, inspectionSocketPath } from "./inspection.ts";
