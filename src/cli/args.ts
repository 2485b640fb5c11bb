/**
 * Command-line parsing shared by every command: strict (an unknown flag is an
 * error), with the config flags of DESIGN.md §3 accepted everywhere.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, CONFIG_FLAG_NAMES, type ConfigFlags } from '../config';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const CONFIG_OPTIONS: OptionSpec = Object.fromEntries(CONFIG_FLAG_NAMES.map((name) => [name, { type: 'string' as const }]));

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  configFlags: ConfigFlags;
}

export function parseCommandArgs(argv: string[], options: OptionSpec = {}): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...CONFIG_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new ConfigError((error as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const configFlags: ConfigFlags = {};
  for (const name of CONFIG_FLAG_NAMES) {
    const v = values[name];
    if (typeof v === 'string') configFlags[name] = v;
  }
  return { values, positionals: parsed.positionals, configFlags };
}

/** Output helpers: `--json` prints one JSON document, otherwise human text. */
export function printResult(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(data, null, 2) : human()) + '\n');
}
