/**
 * Test preload (bunfig.toml): src/routes/ui.ts imports dist/ui/app.js and app.css,
 * so every test that builds the app needs the dashboard bundle. Build it when it is
 * missing or older than src/ui, so `bun test` works from a fresh clone.
 */
import { buildUi, bundleIsStale } from '../../src/ui/build';

if (bundleIsStale()) await buildUi();
