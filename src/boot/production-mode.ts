// Imported first by main.ts. The build also defines process.env.NODE_ENV as
// "production" (Makefile): bun build inlines NODE_ENV reads, and Elysia decides
// once at load whether to run Bun.serve in development mode and leak validation
// internals. This covers code that reads the environment at run time.
if (Bun.isStandaloneExecutable) Bun.env.NODE_ENV ??= 'production';
