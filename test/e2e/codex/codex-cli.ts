/**
 * Drives the real Codex CLI (`@openai/codex`, node_modules/.bin/codex) against a
 * CodexIn base URL, with each run isolated in its own CODEX_HOME, HOME and working dir.
 *
 * Two ways to point Codex at CodexIn (research/chatgpt-upstream-protocol.md §1.1):
 * - `openai_base_url`: the product docs' config. The built-in "openai" provider with
 *   its base URL replaced, authenticated by `codex login --with-api-key`; it tries the
 *   Responses WebSocket (GET /v1/responses) before HTTP.
 * - `custom_provider`: `[model_providers.codexin]` with `env_key` and
 *   `wire_api = "responses"`; plain HTTP POST /v1/responses, key from the environment.
 *
 * Both configs switch off what would make Codex reach off the machine (see QUIET).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, REPO_ROOT, runCli, type RunResult } from '../../support/binary';

/** The npm launcher (`codex`): a Node script that spawns the native binary. */
export const CODEX_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'codex');
/**
 * The native binary the launcher runs. Tests run it directly: under Node < 22 the
 * launcher spawns it as a child instead of exec'ing it, so killing the launcher on a
 * timeout would leave Codex running, still talking to the stack and holding the pipes.
 */
export const CODEX_NATIVE_BIN =
  process.arch === 'arm64'
    ? join(REPO_ROOT, 'node_modules', '@openai', 'codex-linux-arm64', 'vendor', 'aarch64-unknown-linux-musl', 'bin', 'codex')
    : join(REPO_ROOT, 'node_modules', '@openai', 'codex-linux-x64', 'vendor', 'x86_64-unknown-linux-musl', 'bin', 'codex');
export const CODEX_VERSION = '0.169.0';
export const MODEL = 'gpt-5.5';
/** The variable the custom provider reads its key from. */
export const KEY_ENV = 'CODEXIN_API_KEY';

export type CodexConfigKind = 'openai_base_url' | 'custom_provider';

/**
 * Settings shared by both configs, so Codex never reaches off the machine: no update
 * check, analytics, feedback, telemetry export, and no curated-plugins sync at startup
 * (by default `codex exec` runs `git ls-remote https://github.com/openai/plugins.git`,
 * then tries api.github.com and chatgpt.com; seen with strace).
 */
const QUIET = `check_for_update_on_startup = false

[features]
plugins = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
metrics_exporter = "none"
trace_exporter = "none"
`;

export function configToml(kind: CodexConfigKind, baseUrl: string): string {
  if (kind === 'openai_base_url') {
    return `model = "${MODEL}"\nopenai_base_url = "${baseUrl}"\n${QUIET}`;
  }
  return (
    `model = "${MODEL}"\nmodel_provider = "codexin"\n${QUIET}\n` +
    `[model_providers.codexin]\nname = "CodexIn"\nbase_url = "${baseUrl}"\nenv_key = "${KEY_ENV}"\nwire_api = "responses"\n`
  );
}

export interface CodexSetup {
  kind: CodexConfigKind;
  codexHome: string;
  /** HOME of the Codex process (an empty temp dir: no user profile, fast login shells). */
  home: string;
  /** Working root of the run (an empty, non-git temp dir). */
  workDir: string;
  /** The child's whole environment. */
  env: Record<string, string>;
  /** What `codex login --with-api-key` printed (openai_base_url only). */
  login: RunResult | null;
}

/** The native Codex binary; throws when this platform's package is not installed. */
export function codexBinary(): string {
  if (!existsSync(CODEX_NATIVE_BIN)) throw new Error(`Codex CLI native binary not found at ${CODEX_NATIVE_BIN} (the @openai/codex platform package for linux-${process.arch}; run "make deps")`);
  return CODEX_NATIVE_BIN;
}

function baseEnv(codexHome: string, home: string): Record<string, string> {
  // Exactly these variables: nothing from the developer's shell (OPENAI_API_KEY,
  // CODEX_API_KEY, RUST_LOG, proxies) can change what Codex does.
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    CODEX_HOME: codexHome,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    // What the npm launcher adds before running the native binary.
    CODEX_MANAGED_PACKAGE_ROOT: join(REPO_ROOT, 'node_modules', '@openai', 'codex'),
    CODEX_MANAGED_BY_NPM: '1',
  };
}

/** A fresh CODEX_HOME with `config.toml` for `kind`; for openai_base_url, logs in with `key`. */
export async function setUpCodex(kind: CodexConfigKind, baseUrl: string, key: string): Promise<CodexSetup> {
  const codexHome = makeTempDir('codex-home');
  const home = makeTempDir('codex-user');
  const workDir = makeTempDir('codex-work');
  writeFileSync(join(codexHome, 'config.toml'), configToml(kind, baseUrl));
  const env = baseEnv(codexHome, home);
  let login: RunResult | null = null;
  if (kind === 'openai_base_url') {
    login = await runCli(['login', '--with-api-key'], { command: [codexBinary()], cwd: workDir, inheritEnv: false, env, stdin: `${key}\n`, timeoutMs: 30_000 });
  } else {
    env[KEY_ENV] = key;
  }
  return { kind, codexHome, home, workDir, env, login };
}

export interface CodexRun {
  /** Exit code (128 + signal number after a kill). */
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr. */
  output: string;
  /** The file `--output-last-message` wrote, or null when Codex wrote none. */
  lastMessage: string | null;
  /** True when Codex outlived the timeout and was killed. */
  timedOut: boolean;
  ms: number;
}

/**
 * `codex exec` non-interactively: stdin closed, no approvals and no sandbox (this
 * container cannot run Codex's sandbox, and exec_command must really run), unknown
 * config keys rejected, the final message also written to a file. On `timeoutMs` Codex
 * is killed and the run returned with `timedOut` (the caller decides how to fail).
 */
export async function codexExec(setup: CodexSetup, prompt: string, timeoutMs = 90_000): Promise<CodexRun> {
  const lastFile = join(makeTempDir('codex-last'), 'last-message.txt');
  const started = performance.now();
  const child = Bun.spawn({
    cmd: [
      codexBinary(),
      'exec',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '--strict-config',
      '--color',
      'never',
      '-C',
      setup.workDir,
      '-o',
      lastFile,
      prompt,
    ],
    cwd: setup.workDir,
    env: setup.env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  // A command Codex started may outlive it and keep the pipes open: read what is there.
  const settle = <T>(p: Promise<T>, fallback: T) => Promise.race([p, Bun.sleep(2_000).then(() => fallback)]);
  const [out, err] = await Promise.all([settle(stdout, ''), settle(stderr, '')]);
  return {
    code,
    stdout: out,
    stderr: err,
    output: `${out}\n${err}`,
    lastMessage: existsSync(lastFile) ? readFileSync(lastFile, 'utf8') : null,
    timedOut,
    ms: performance.now() - started,
  };
}

/** What a healthy run never prints: transport retries, the WebSocket→HTTPS fallback, stream errors. */
export const TRANSPORT_TROUBLE = /reconnecting|falling back from websockets|stream error|stream disconnected|retry|retrying|idle timeout/i;

/** The lines of `output` that mention transport trouble (empty when healthy). */
export function transportTrouble(output: string): string[] {
  return output.split('\n').filter((line) => TRANSPORT_TROUBLE.test(line));
}
