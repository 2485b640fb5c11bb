/**
 * The README's first command: `make run` bootstraps and starts the server on its
 * defaults (here pointed at a temp data dir and a free port through the env twins).
 */
import { afterAll, expect, test } from 'bun:test';
import { childEnv, makeTempDir, REPO_ROOT, runCli } from '../support/binary';

const children: number[] = [];
afterAll(() => {
  for (const pid of children) Bun.spawnSync(['pkill', '-TERM', '-P', String(pid)]);
});

test('make run starts a server that answers /healthz, /v1/models with the printed admin key, and /docs', async () => {
  const dataDir = makeTempDir('make-run');
  const make = Bun.spawn({
    cmd: ['make', '-s', 'run'],
    cwd: REPO_ROOT,
    env: childEnv({ env: { CODEXIN_PORT: '0', CODEXIN_DATA_DIR: dataDir } }),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  children.push(make.pid);
  const reader = make.stdout.getReader();
  const decoder = new TextDecoder();
  let out = '';
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/\S+?) /.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value);
  }
  const url = /listening on (http:\/\/\S+?) /.exec(out)?.[1];
  const adminKey = /^\s+(ci_[A-Za-z0-9_-]{43})\s*$/m.exec(out)?.[1];
  expect(url).toBeDefined();
  expect(adminKey).toBeDefined();
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${adminKey}` } });
  expect(models.status).toBe(200);
  expect(((await models.json()) as { data: { id: string }[] }).data[0]!.id).toBe('gpt-5.5');
  const docs = await fetch(`${url}/docs`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain('/docs-assets/swagger-ui-bundle.js');
  Bun.spawnSync(['pkill', '-TERM', '-P', String(make.pid)]);
  expect(await make.exited).toBe(0);
});

test('the compiled binary runs in production mode; the source does not', async () => {
  const binary = JSON.parse((await runCli(['version', '--json'])).stdout) as { compiled: boolean; node_env: string | null };
  expect(binary).toMatchObject({ compiled: true, node_env: 'production' });
  const source = JSON.parse((await runCli(['version', '--json'], { command: [`${REPO_ROOT}/node_modules/.bin/bun`, `${REPO_ROOT}/src/main.ts`], env: { NODE_ENV: undefined } })).stdout) as { compiled: boolean; node_env: string | null };
  expect(source.compiled).toBe(false);
  expect(source.node_env).not.toBe('production');
});
