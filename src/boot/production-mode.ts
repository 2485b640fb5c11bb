// Imported first by main.ts: Elysia reads NODE_ENV once at module load, and the
// compiled binary must run in production mode (no validation internals in errors,
// Bun.serve not in development mode).
if (Bun.isStandaloneExecutable) process.env.NODE_ENV ??= 'production';
