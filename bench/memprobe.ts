/**
 * Preloaded into a CodexIn run from source by `bun bench/profile.ts memory`: on SIGUSR2 it
 * runs a full GC and writes the JS heap's statistics (sizes and live object counts by type)
 * to $MEMPROBE_DIR/probe-N.json, so two probes bracket what N open streams keep alive.
 */
import { heapStats } from 'bun:jsc';
import { writeFileSync } from 'node:fs';

const dir = process.env.MEMPROBE_DIR;
let serial = 0;
if (dir) {
  process.on('SIGUSR2', () => {
    Bun.gc(true);
    const stats = heapStats();
    const probe = {
      memory: process.memoryUsage(),
      heapSize: stats.heapSize,
      extraMemorySize: stats.extraMemorySize,
      objectCount: stats.objectCount,
      objectTypeCounts: stats.objectTypeCounts,
    };
    writeFileSync(`${dir}/probe-${serial++}.json`, JSON.stringify(probe));
  });
}
