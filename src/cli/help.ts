/**
 * Usage text of every command. `--help`/`-h` is answered from here by the
 * dispatcher before a command runs, so asking for help never opens the data dir,
 * mints a key, binds a port or starts a login.
 */
import { VERSION } from '../version';

const CONFIG_FLAGS = `config flags (every one has a CODEXIN_* env twin; flags win):
  --data-dir DIR        where the database and files live (default ~/.codexin)
  --host HOST           listen address (default 127.0.0.1)
  --port PORT           listen port (default 8787)
  --upstream KIND       chatgpt (default) | openai | mock (a built-in simulator: try it without a subscription)
  --upstream-url URL    the upstream's base URL
  --auth-url URL        the ChatGPT auth server (default https://auth.openai.com)
  --log-level LEVEL     debug | info (default) | warn | error | silent
  --log-format FORMAT   pretty (default on a terminal) | json (default otherwise)
  --secret-key-file F   the key that encrypts OAuth tokens at rest (default <data-dir>/secret.key;
                        or the key itself in CODEXIN_SECRET_KEY)
  --trust-proxy BOOL    true behind a reverse proxy that sets X-Forwarded-Host/-Proto (default false)
  --database-url URL    postgres://… : keep everything in PostgreSQL, shared by several instances
                        (default: SQLite in the data dir); every instance needs the same secret key
  --redis-url URL       redis://… : rate windows and concurrency leases in Redis (needs --database-url)`;

export const COMMAND_LIST = `codexin ${VERSION}: an OpenAI-compatible API over a ChatGPT/Codex subscription

usage: codexin COMMAND [flags]      (codexin COMMAND --help for one command)

commands:
  serve                         start the server (try: codexin serve --upstream mock)
  keys create|list|revoke       manage API keys
  accounts import|list|remove   manage ChatGPT accounts (import a Codex CLI auth.json)
  models list|enable|disable    the model catalog /v1/models serves
  login                         log a ChatGPT account in (browser, or --device-code on a headless host)
  doctor                        check data dir, database, accounts and upstream
  db copy                       copy an install's SQLite data into PostgreSQL
  version                       print the version
  help                          print this list

${CONFIG_FLAGS}
`;

const USAGES: Record<string, string> = {
  serve: `usage: codexin serve [flags]

Starts the server. On the first start with no keys it creates an admin key and
prints it once. Stops gracefully on SIGTERM/SIGINT.

${CONFIG_FLAGS}
`,
  keys: `usage:
  codexin keys create --name NAME [--advanced] [--admin] [--expires-in 30d] [--models a,b]
                      [--rpm N] [--tokens-per-day N] [--tokens-per-week N] [--max-concurrent N] [--json]
  codexin keys list [--json]        id, name, scopes, limits, expiry and state of every key
  codexin keys revoke ID [--json]

The new key is printed once by "keys create": copy it then.

${CONFIG_FLAGS}
`,
  accounts: `usage:
  codexin accounts import PATH [--label NAME] [--json]   import a Codex CLI auth.json (ChatGPT login)
  codexin accounts list [--json]                         state, token expiry and quota of each account
  codexin accounts remove ID [--json]

After an import CodexIn owns the login and rotates its tokens: log the Codex CLI in
again instead of sharing one auth.json.

${CONFIG_FLAGS}
`,
  login: `usage: codexin login [--device-code] [--no-browser] [--label NAME] [--json]

Logs a ChatGPT account in and stores it (CodexIn owns and rotates its tokens).
  (default)       browser login: opens the ChatGPT sign-in page and waits for the
                  redirect on http://localhost:1455/auth/callback (as Codex CLI does)
  --no-browser    print the sign-in URL instead of opening a browser
  --device-code   device-code login for headless hosts: open the printed URL on any
                  device and enter the code ("Device code login" must be enabled in
                  ChatGPT's security settings)
  --callback-port N   the loopback port of the browser login (default 1455)

${CONFIG_FLAGS}
`,
  models: `usage:
  codexin models list [--json]        every model of the catalog, enabled or not
  codexin models enable ID [--json]
  codexin models disable ID [--json]  no longer listed by /v1/models nor accepted

A running server (or every instance on a shared database) follows within a second.

${CONFIG_FLAGS}
`,
  doctor: `usage: codexin doctor [--json]

Checks the data dir, the database, each account's login and the upstream's
reachability (through HTTP(S)_PROXY when set). Exit 0 when healthy, 1 otherwise.

${CONFIG_FLAGS}
`,
  db: `usage: codexin db copy --from sqlite:PATH --to postgres://USER@HOST:PORT/DB [--json]

Copies keys, models, accounts, usage (and the per-day token totals rebuilt from it),
files and their bytes from a data dir (PATH: the dir or its codexin.db) into an empty
PostgreSQL database, in one transaction: all or nothing. The target's schema is
created; a target that already holds keys, accounts, usage or files is refused.

The source is only read. Its schema must be this build's: run any codexin command on
an older data dir first. A running serve may keep going: the copy reads one consistent
snapshot (SQLite WAL) and leaves out what is written after it.

Tokens move sealed: the PostgreSQL instances need the source's secret key
(--secret-key-file or CODEXIN_SECRET_KEY). The URL's password is never printed.
`,
  version: `usage: codexin version [--json]
`,
  help: COMMAND_LIST,
};

export function usageOf(command: string): string | undefined {
  return USAGES[command];
}

/** True when argv asks for help: `--help` or `-h` anywhere before a `--`. */
export function wantsHelp(argv: string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
