/**
 * The errors of `aiots/pg`, named as asyncpg's: `PostgresError` (the server said no; its SQLSTATE
 * and the ErrorResponse fields as properties) with a subclass for the SQLSTATEs code most often
 * tests for, and `InterfaceError` (the client side: misuse, a pool closed, a connection lost).
 *
 * Why classes per SQLSTATE: `catch (e) { if (e instanceof UniqueViolationError) ... }` reads as
 * asyncpg's `except UniqueViolationError`; every other code is a plain `PostgresError` whose
 * `sqlstate` says which.
 * @module
 */

/** The fields of a PostgreSQL ErrorResponse that node-postgres exposes on its DatabaseError. */
export interface ServerFields {
  message: string;
  code?: string | undefined;
  severity?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  position?: string | undefined;
  where?: string | undefined;
  schema?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
  dataType?: string | undefined;
  constraint?: string | undefined;
}

/**
 * An error the PostgreSQL server reported (an ErrorResponse): the message is the server's,
 * `sqlstate` its five-character code (`"42601"` for a syntax error), and the other fields are the
 * server's when it sent them (asyncpg's attribute names in camelCase).
 * @example
 * ```ts
 * import { PostgresError } from "aiots/pg";
 * const e = new PostgresError({ message: 'syntax error at or near "selec"', code: "42601" });
 * console.log(e.sqlstate, e.message); // 42601 syntax error at or near "selec"
 * ```
 */
export class PostgresError extends Error {
  /** The SQLSTATE code, e.g. `"23505"` (unique_violation). */
  readonly sqlstate: string;
  /** `ERROR`, `FATAL` or `PANIC` (the non-localized severity when the server sent it). */
  readonly severity: string | null;
  /** The server's DETAIL line, if any. */
  readonly detail: string | null;
  /** The server's HINT line, if any. */
  readonly hint: string | null;
  /** 1-based character position in the query that the error points at, if any. */
  readonly position: number | null;
  /** The server's context (call stack of functions, for errors raised in PL/pgSQL). */
  readonly where: string | null;
  /** The schema, table, column, data type and constraint the error is about, when the server names them. */
  readonly schemaName: string | null;
  /** See `schemaName`. */
  readonly tableName: string | null;
  /** See `schemaName`. */
  readonly columnName: string | null;
  /** See `schemaName`. */
  readonly dataTypeName: string | null;
  /** See `schemaName`. */
  readonly constraintName: string | null;

  /** Builds the error from an ErrorResponse's fields (`fromServer` picks the subclass). */
  constructor(fields: ServerFields, options?: ErrorOptions) {
    super(fields.message, options);
    this.name = new.target.name;
    this.sqlstate = fields.code ?? "XX000";
    this.severity = fields.severity ?? null;
    this.detail = fields.detail ?? null;
    this.hint = fields.hint ?? null;
    this.position = fields.position === undefined ? null : Number(fields.position);
    this.where = fields.where ?? null;
    this.schemaName = fields.schema ?? null;
    this.tableName = fields.table ?? null;
    this.columnName = fields.column ?? null;
    this.dataTypeName = fields.dataType ?? null;
    this.constraintName = fields.constraint ?? null;
  }
}

/** 23505 unique_violation: a row with that key exists (`constraintName` says which key). */
export class UniqueViolationError extends PostgresError {}
/** 23503 foreign_key_violation. */
export class ForeignKeyViolationError extends PostgresError {}
/** 23502 not_null_violation. */
export class NotNullViolationError extends PostgresError {}
/** 23514 check_violation. */
export class CheckViolationError extends PostgresError {}
/** 42601 syntax_error: the message is the server's, `position` points into the query. */
export class PostgresSyntaxError extends PostgresError {}
/** 42P01 undefined_table. */
export class UndefinedTableError extends PostgresError {}
/** 42703 undefined_column. */
export class UndefinedColumnError extends PostgresError {}
/** 22P02 invalid_text_representation (e.g. `'abc'::int`). */
export class InvalidTextRepresentationError extends PostgresError {}
/**
 * 57014 query_canceled, when the server cancelled a statement by itself (`statement_timeout`) or
 * another session cancelled it; a cancelled aiots task gets `CancelledError` instead.
 */
export class QueryCanceledError extends PostgresError {}
/** 40P01 deadlock_detected: retry the transaction. */
export class DeadlockDetectedError extends PostgresError {}
/** 40001 serialization_failure: retry the transaction. */
export class SerializationError extends PostgresError {}
/** 57P01 admin_shutdown: the server is shutting down or restarting, or the backend was terminated. */
export class AdminShutdownError extends PostgresError {}

const BY_SQLSTATE: Record<string, new (fields: ServerFields, options?: ErrorOptions) => PostgresError> = {
  "23505": UniqueViolationError,
  "23503": ForeignKeyViolationError,
  "23502": NotNullViolationError,
  "23514": CheckViolationError,
  "42601": PostgresSyntaxError,
  "42P01": UndefinedTableError,
  "42703": UndefinedColumnError,
  "22P02": InvalidTextRepresentationError,
  "57014": QueryCanceledError,
  "40P01": DeadlockDetectedError,
  "40001": SerializationError,
  "57P01": AdminShutdownError,
};

/**
 * A client-side error: the API used wrongly (a released connection used again, two queries at once
 * on one connection, a closed pool), or a connection that could not be opened.
 */
export class InterfaceError extends Error {
  /** Builds the error; the message says what was wrong and what to do. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The connection to the server was lost (server restart, network failure, backend terminated)
 * while an operation used it, or it was closed. The operation may or may not have run on the
 * server; a pool opens a new connection for the next one.
 */
export class ConnectionDoesNotExistError extends InterfaceError {}

/** Whether `error` is node-postgres's DatabaseError (a parsed ErrorResponse). */
function isServerError(error: unknown): error is Error & ServerFields {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" &&
    /^[0-9A-Z]{5}$/.test((error as unknown as { code: string }).code) && "severity" in error;
}

/** @internal turns what node-postgres threw into an aiots/pg error (server errors keep their fields). */
export function translateError(error: unknown, what: string, lost: boolean): unknown {
  if (error instanceof PostgresError || error instanceof InterfaceError) return error;
  if (isServerError(error)) {
    const Class = BY_SQLSTATE[error.code ?? ""] ?? PostgresError;
    return new Class(error, { cause: error });
  }
  if (error instanceof Error && lost) {
    return new ConnectionDoesNotExistError(
      `${what}: the connection to the server was lost (${error.message}); the statement may or may not have run, and the next one gets a new connection`,
      { cause: error },
    );
  }
  if (error instanceof Error) return new InterfaceError(`${what}: ${error.message}`, { cause: error });
  return error;
}
