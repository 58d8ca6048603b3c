/**
 * aiots/pg: asyncpg's API for PostgreSQL (`createPool`, `connect`, `fetch`, `fetchRow`, `fetchVal`,
 * `execute`, `transaction`, `listen`), where cancelling the awaiting task cancels the query on the
 * server. Needs the optional peer dependency `pg` (node-postgres). This file only re-exports.
 * @module
 */
export { createPool, Pool } from "./pg/pool.ts";
export { connect, Connection, ListenIterator, type Row, type TransactionOptions } from "./pg/connection.ts";
export type { Notification } from "./pg/link.ts";
export type { ConnectOptions, PoolOptions } from "./pg/options.ts";
export {
  AdminShutdownError,
  CheckViolationError,
  ConnectionDoesNotExistError,
  DeadlockDetectedError,
  ForeignKeyViolationError,
  InterfaceError,
  InvalidTextRepresentationError,
  NotNullViolationError,
  PostgresError,
  PostgresSyntaxError,
  QueryCanceledError,
  SerializationError,
  UndefinedColumnError,
  UndefinedTableError,
  UniqueViolationError,
  type ServerFields,
} from "./pg/errors.ts";
