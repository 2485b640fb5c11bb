/** `codexin models list|enable|disable`: the model catalog /v1/models serves, from the shell. */
import { ConfigError, resolveConfig } from '../config';
import type { ModelRecord } from '../store/models';
import { parseCommandArgs, printResult } from './args';
import { withStores } from './stores';

const USAGE = 'usage: codexin models list [--json] | models enable ID [--json] | models disable ID [--json]';

function modelJson(m: ModelRecord) {
  return { id: m.id, upstream_slug: m.upstreamSlug, display_name: m.displayName, context_window: m.contextWindow, default_reasoning_effort: m.defaultReasoningEffort, enabled: m.enabled };
}

export async function modelsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals, configFlags } = parseCommandArgs(rest);
  const json = values.json === true;
  const config = resolveConfig(configFlags);
  switch (sub) {
    case 'list': {
      if (positionals.length) throw new ConfigError(`models list: unexpected argument "${positionals[0]}"`);
      return withStores(config, async (stores) => {
        const models = stores.models();
        // A database no server has started on yet still lists the built-in catalog.
        if (models.listAll().length === 0) await models.seed();
        const all = models.listAll();
        printResult(json, all.map(modelJson), () => all.map((m) => `${m.id}  ${m.enabled ? 'enabled ' : 'DISABLED'}  ${m.displayName}, ${m.contextWindow} tokens of context`).join('\n'));
        return 0;
      });
    }
    case 'enable':
    case 'disable': {
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new ConfigError(`models ${sub}: give exactly one model id (see codexin models list)`);
      return withStores(config, async (stores) => {
        const models = stores.models();
        if (models.listAll().length === 0) await models.seed();
        const model = await models.setEnabled(id, sub === 'enable');
        if (!model) {
          process.stderr.write(`codexin: no model with id ${id} (see codexin models list)\n`);
          return 1;
        }
        printResult(json, modelJson(model), () => `${sub === 'enable' ? 'Enabled' : 'Disabled'} ${model.id}: it is ${model.enabled ? 'now listed and accepted' : 'no longer listed or accepted'} on /v1 (running servers follow within a second).`);
        return 0;
      });
    }
    default:
      throw new ConfigError(sub ? `models: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  }
}
