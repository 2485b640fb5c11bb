/**
 * Bundles the dashboard (src/ui/main.tsx + its CSS) into dist/ui/app.js and
 * dist/ui/app.css, which src/routes/ui.ts embeds. Run by make (run, build, test)
 * and by the test preload, so a fresh clone never serves a stale or missing bundle.
 *
 *   bun src/ui/build.ts           build
 *   bun src/ui/build.ts --if-stale  build only when a source is newer than the bundle
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const UI_DIR = import.meta.dir;
export const UI_OUT_DIR = resolve(UI_DIR, '..', '..', 'dist', 'ui');
const OUTPUTS = ['app.js', 'app.css'].map((name) => join(UI_OUT_DIR, name));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function bundleIsStale(): boolean {
  if (!OUTPUTS.every((path) => existsSync(path))) return true;
  const built = Math.min(...OUTPUTS.map((path) => statSync(path).mtimeMs));
  return newestSource(UI_DIR) > built;
}

export async function buildUi(): Promise<{ bytes: Record<string, number> }> {
  const result = await Bun.build({
    entrypoints: [join(UI_DIR, 'main.tsx')],
    outdir: UI_OUT_DIR,
    naming: { entry: 'app.[ext]', asset: '[name].[ext]' },
    target: 'browser',
    format: 'esm',
    minify: true,
    sourcemap: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  if (!result.success) throw new AggregateError(result.logs, 'dashboard bundle failed');
  const bytes: Record<string, number> = {};
  for (const output of result.outputs) bytes[output.path.slice(UI_OUT_DIR.length + 1)] = output.size;
  return { bytes };
}

if (import.meta.main) {
  if (process.argv.includes('--if-stale') && !bundleIsStale()) process.exit(0);
  const { bytes } = await buildUi();
  const summary = Object.entries(bytes)
    .map(([name, size]) => `${name} ${(size / 1024).toFixed(1)} KiB`)
    .join(', ');
  process.stdout.write(`dashboard bundle: ${summary}\n`);
}
