import { ServiceUnavailableError } from '@backstage/errors';

/** Socket errors of a database server that is gone or not reachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Whether an error means the database cannot be reached right now, rather than that a query was
 * wrong: a refused or cut connection, PostgreSQL shutting down or starting up (SQLSTATE class 08,
 * 57P01-57P03), or no pooled connection within knex's timeout.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code))) return true;
  if (name === 'KnexTimeoutError') return true;
  return typeof message === 'string' && /Connection terminated|Client has encountered a connection error|connect ECONNREFUSED/.test(message);
}

/**
 * The error a caller gets for `error`: a 503 that says so when the database is gone (a restart, a
 * failover), never a 500; any other error as it is. A change is saved in one transaction, so it is
 * either all there or not at all.
 */
export function unlessDatabaseUnavailable(error: unknown): unknown {
  return isDatabaseUnavailable(error)
    ? new ServiceUnavailableError('The releases database cannot be reached right now; try again in a few seconds (a change is saved in one transaction: all of it or none)', error as Error)
    : error;
}
