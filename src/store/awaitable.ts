/**
 * What a store method returns when one backend answers at once and another over the
 * network: the SQLite stores stay synchronous (the single binary pays no promise per
 * call), the PostgreSQL ones return promises, and callers `await` either.
 */
export type Awaitable<T> = T | Promise<T>;
