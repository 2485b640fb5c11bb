/**
 * Everything one simulator instance remembers. Route modules receive it explicitly
 * so two simulators in one test never share anything.
 */
import type { AccountRegistry } from './accounts';
import type { Catalog } from './catalog';
import type { DeviceStore } from './oauth';
import type { FileStore } from './files';
import type { HttpErrorScenario, RecordedRequest, Scenario, SimulatorStats } from './types';

export interface SimState {
  plan: string;
  models: string[];
  silenceKeepaliveMs: number | undefined;
  accounts: AccountRegistry;
  devices: DeviceStore;
  files: FileStore;
  catalog: Catalog;
  queue: Scenario[];
  defaultScenario: Scenario | null;
  filesQueue: HttpErrorScenario[];
  transcribeQueue: HttpErrorScenario[];
  requests: RecordedRequest[];
  aborts: { path: string; at: number }[];
  refreshCount: number;
  stats: SimulatorStats;
  /** prompt_cache_key → input tokens of the last request that used it. */
  promptCache: Map<string, number>;
}

export function nextScenario(state: SimState): Scenario | null {
  return state.queue.shift() ?? state.defaultScenario;
}
