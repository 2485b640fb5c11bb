/**
 * The end-to-end stack: the upstream simulator running in the test process, and the
 * compiled `dist/codexin` in front of it with one imported simulated ChatGPT account.
 * Tests script the simulator (faults, tool calls) and inspect what reached it, while
 * real clients talk to the binary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/upstream/mock';
import { makeTempDir, runCli, startServer, type RunningServer, type EnvVars } from './binary';

export interface E2EStack {
  sim: Simulator;
  simUrl: string;
  server: RunningServer;
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** The first-run admin key (admin + advanced scopes). */
  adminKey: string;
  dataDir: string;
  /** Creates another key through the CLI, e.g. createKey(['--advanced']). */
  createKey(flags?: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startStack(opts: { simulator?: SimulatorOptions; env?: EnvVars; args?: string[]; accounts?: number } = {}): Promise<E2EStack> {
  const sim = createSimulator(opts.simulator);
  const running = await sim.start({ hostname: '127.0.0.1', port: 0 });
  const dataDir = makeTempDir('stack');
  const upstreamArgs = ['--upstream', 'chatgpt', '--upstream-url', `${running.url}/backend-api`, '--auth-url', running.url];
  for (let i = 0; i < (opts.accounts ?? 1); i++) {
    const authPath = join(dataDir, `auth-${i}.json`);
    writeFileSync(authPath, JSON.stringify(sim.issueAccount().authJson));
    const imported = await runCli(['accounts', 'import', authPath, '--data-dir', dataDir], { env: opts.env });
    if (imported.code !== 0) throw new Error(`accounts import failed: ${imported.stderr}`);
  }
  const server = await startServer({ dataDir, args: [...upstreamArgs, ...(opts.args ?? [])], env: opts.env });
  if (!server.adminKey) throw new Error('the server printed no first-run admin key');
  return {
    sim,
    simUrl: running.url,
    server,
    baseUrl: `${server.url}/v1`,
    adminKey: server.adminKey,
    dataDir,
    async createKey(flags = []) {
      const created = await runCli(['keys', 'create', '--name', 'e2e', '--json', '--data-dir', dataDir, ...flags], { env: opts.env });
      if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
      return (JSON.parse(created.stdout) as { key: string }).key;
    },
    async stop() {
      await server.stop();
      await running.stop();
    },
  };
}
