/** The codexin command: dispatches to one module per command (src/cli/). */
import '../boot/production-mode';
import { ConfigError } from '../config';
import { VERSION } from '../version';
import { serveCommand } from './serve';
import { keysCommand } from './keys';
import { accountsCommand } from './accounts';
import { loginCommand } from './login';
import { doctorCommand } from './doctor';
import { modelsCommand } from './models';
import { dbCommand } from './db';
import { COMMAND_LIST, usageOf, wantsHelp } from './help';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  keys: keysCommand,
  accounts: accountsCommand,
  login: loginCommand,
  doctor: doctorCommand,
  models: modelsCommand,
  db: dbCommand,
  version: async (argv) => {
    if (argv.includes('--json')) {
      process.stdout.write(JSON.stringify({ version: VERSION, bun: Bun.version, compiled: Bun.isStandaloneExecutable, node_env: process.env.NODE_ENV ?? null }) + '\n');
    }
    else process.stdout.write(`codexin ${VERSION} (bun ${Bun.version})\n`);
    return 0;
  },
  // `codexin help keys` is `codexin keys --help`.
  help: async (argv) => {
    process.stdout.write((argv[0] && usageOf(argv[0])) || COMMAND_LIST);
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  // A bare `codexin` lists the commands rather than starting a server; flags alone still mean serve.
  if (first === undefined || first === '--help' || first === '-h') return COMMANDS.help!([]);
  if (first === '--version') return COMMANDS.version!([]);
  const command = first.startsWith('-') ? 'serve' : first;
  const run = COMMANDS[command];
  if (!run) throw new ConfigError(`unknown command "${command}"; run "codexin help"`);
  const rest = command === first ? argv.slice(1) : argv;
  if (wantsHelp(rest)) {
    process.stdout.write(usageOf(command) ?? COMMAND_LIST);
    return 0;
  }
  return run(rest);
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
