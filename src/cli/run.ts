/** The codexin command: dispatches to one module per command (src/cli/). */
import '../boot/production-mode';
import { ConfigError } from '../config';
import { VERSION } from '../version';
import { serveCommand } from './serve';
import { keysCommand } from './keys';
import { accountsCommand } from './accounts';
import { loginCommand } from './login';
import { doctorCommand } from './doctor';

const HELP = `codexin ${VERSION}: an OpenAI-compatible API over a ChatGPT/Codex subscription

usage: codexin [command] [flags]

commands:
  serve                 start the server (the default)
  keys create|list|revoke  manage API keys
  accounts import|list|remove  manage ChatGPT accounts (import a Codex CLI auth.json)
  login                 log a ChatGPT account in with a device code
  doctor                check data dir, database, accounts and upstream
  version               print the version

flags (every one has a CODEXIN_* env twin):
  --host, --port, --data-dir, --upstream chatgpt|openai|mock, --upstream-url, --auth-url, --log-level,
  --trust-proxy true|false (believe X-Forwarded-Host/-Proto from a reverse proxy)
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  keys: keysCommand,
  accounts: accountsCommand,
  login: loginCommand,
  doctor: doctorCommand,
  version: async (argv) => {
    if (argv.includes('--json')) {
      process.stdout.write(JSON.stringify({ version: VERSION, bun: Bun.version, compiled: Bun.isStandaloneExecutable, node_env: process.env.NODE_ENV ?? null }) + '\n');
    }
    else process.stdout.write(`codexin ${VERSION} (bun ${Bun.version})\n`);
    return 0;
  },
  help: async () => {
    process.stdout.write(HELP);
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h') return COMMANDS.help!([]);
  if (first === '--version') return COMMANDS.version!([]);
  const command = first === undefined || first.startsWith('-') ? 'serve' : first;
  const run = COMMANDS[command];
  if (!run) throw new ConfigError(`unknown command "${command}"; run "codexin help"`);
  return run(command === first ? argv.slice(1) : argv);
}

export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`codexin: ${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`codexin: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
