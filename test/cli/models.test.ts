/** `codexin models list|enable|disable` on the data dir and on a shared PostgreSQL database, through the compiled binary. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTempDir, removeTempDirs, runCli } from '../support/binary';
import { startPostgres, type PostgresServer } from '../support/services';

let pg: PostgresServer;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.stop();
  removeTempDirs();
});

type Listed = { id: string; enabled: boolean }[];

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`models on ${backend}`, () => {
    test('lists the catalog, disables and enables a model, and refuses an unknown id', async () => {
      const where = backend === 'sqlite' ? ['--data-dir', makeTempDir('models')] : ['--database-url', await pg.createDatabase()];
      const listed = await runCli(['models', 'list', '--json', ...where]);
      expect(listed.code).toBe(0);
      const models = JSON.parse(listed.stdout) as Listed;
      expect(models.length).toBeGreaterThan(1);
      expect(models.every((m) => m.enabled)).toBe(true);
      const target = models[1]!.id;

      const disabled = await runCli(['models', 'disable', target, '--json', ...where]);
      expect(disabled.code).toBe(0);
      expect(JSON.parse(disabled.stdout)).toMatchObject({ id: target, enabled: false });
      const after = JSON.parse((await runCli(['models', 'list', '--json', ...where])).stdout) as Listed;
      expect(after.find((m) => m.id === target)?.enabled).toBe(false);
      expect(after.filter((m) => m.id !== target).every((m) => m.enabled)).toBe(true);

      const human = await runCli(['models', 'list', ...where]);
      expect(human.stdout).toMatch(new RegExp(`^${target.replace(/\./g, '\\.')}\\s+DISABLED`, 'm'));
      expect((await runCli(['models', 'enable', target, ...where])).code).toBe(0);
      expect((JSON.parse((await runCli(['models', 'list', '--json', ...where])).stdout) as Listed).find((m) => m.id === target)?.enabled).toBe(true);

      const unknown = await runCli(['models', 'disable', 'no-such-model', ...where]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no model with id no-such-model');
    });
  });
}

test('usage mistakes exit 2 with the usage line', async () => {
  const dir = makeTempDir('models-usage');
  for (const args of [['models'], ['models', 'frobnicate'], ['models', 'enable'], ['models', 'enable', 'a', 'b']]) {
    const result = await runCli([...args, '--data-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^codexin: models/);
  }
});
