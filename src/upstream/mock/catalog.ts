/**
 * The `/codex/models` catalog. Codex decodes it strictly: one entry missing a
 * required ModelInfo field fails the whole list (protocol §1.6), so every entry
 * carries all of them, with values copied from the captured 2026 catalog (§3.3).
 */
import { createHash } from 'node:crypto';

export const DEFAULT_MODELS = ['gpt-5.5', 'gpt-5.4', 'gpt-5.4-mini', 'gpt-5.3-codex-spark', 'codex-auto-review'];

interface ModelTraits {
  displayName: string;
  description: string;
  defaultEffort: string;
  efforts: string[];
  contextWindow: number;
  visibility: 'list' | 'hide';
  supportedInApi: boolean;
  priority: number;
  defaultVerbosity: 'low' | 'medium';
}

const EFFORT_TEXT: Record<string, string> = {
  minimal: 'Fastest responses with minimal reasoning',
  low: 'Fast responses with lighter reasoning',
  medium: 'Balances speed and reasoning depth for everyday tasks',
  high: 'Greater reasoning depth for complex problems',
  xhigh: 'Extra high reasoning depth for complex problems',
};

const FULL_EFFORTS = ['low', 'medium', 'high', 'xhigh'];

const KNOWN: Record<string, ModelTraits> = {
  'gpt-5.5': {
    displayName: 'GPT-5.5',
    description: 'Frontier model for complex coding, research, and real-world work.',
    defaultEffort: 'medium',
    efforts: FULL_EFFORTS,
    contextWindow: 272_000,
    visibility: 'list',
    supportedInApi: true,
    priority: 7,
    defaultVerbosity: 'low',
  },
  'gpt-5.4': {
    displayName: 'GPT-5.4',
    description: 'Strong model for everyday coding.',
    defaultEffort: 'medium',
    efforts: FULL_EFFORTS,
    contextWindow: 272_000,
    visibility: 'list',
    supportedInApi: true,
    priority: 8,
    defaultVerbosity: 'low',
  },
  'gpt-5.4-mini': {
    displayName: 'GPT-5.4-Mini',
    description: 'Small, fast, and cost-efficient model for simpler coding tasks.',
    defaultEffort: 'medium',
    efforts: FULL_EFFORTS,
    contextWindow: 272_000,
    visibility: 'list',
    supportedInApi: true,
    priority: 9,
    defaultVerbosity: 'medium',
  },
  // The captured catalog lists Spark with a smaller window and not usable from the API.
  'gpt-5.3-codex-spark': {
    displayName: 'GPT-5.3-Codex-Spark',
    description: 'Ultra-fast coding model.',
    defaultEffort: 'high',
    efforts: FULL_EFFORTS,
    contextWindow: 128_000,
    visibility: 'list',
    supportedInApi: false,
    priority: 10,
    defaultVerbosity: 'low',
  },
  'codex-auto-review': {
    displayName: 'Codex Auto Review',
    description: 'Reviews proposed actions for Codex.',
    defaultEffort: 'low',
    efforts: ['low', 'medium'],
    contextWindow: 272_000,
    visibility: 'hide',
    supportedInApi: false,
    priority: 99,
    defaultVerbosity: 'low',
  },
};

function traitsFor(slug: string, index: number): ModelTraits {
  return (
    KNOWN[slug] ?? {
      displayName: slug,
      description: `Simulated model ${slug}.`,
      defaultEffort: 'medium',
      efforts: FULL_EFFORTS,
      contextWindow: 272_000,
      visibility: 'list',
      supportedInApi: true,
      priority: 20 + index,
      defaultVerbosity: 'low',
    }
  );
}

export function modelInfo(slug: string, index = 0): Record<string, unknown> {
  const t = traitsFor(slug, index);
  return {
    slug,
    display_name: t.displayName,
    description: t.description,
    default_reasoning_level: t.defaultEffort,
    supported_reasoning_levels: t.efforts.map((effort) => ({ effort, description: EFFORT_TEXT[effort] ?? effort })),
    shell_type: 'shell_command',
    visibility: t.visibility,
    supported_in_api: t.supportedInApi,
    priority: t.priority,
    availability_nux: null,
    upgrade: null,
    base_instructions: 'You are Codex, a coding agent based on GPT-5. You and the user share one workspace.',
    model_messages: null,
    supports_reasoning_summaries: true,
    supports_reasoning_summary_parameter: true,
    default_reasoning_summary: 'none',
    support_verbosity: true,
    default_verbosity: t.defaultVerbosity,
    apply_patch_tool_type: 'freeform',
    web_search_tool_type: 'text_and_image',
    truncation_policy: { mode: 'tokens', limit: 10_000 },
    supports_parallel_tool_calls: true,
    supports_image_detail_original: true,
    context_window: t.contextWindow,
    max_context_window: t.contextWindow,
    auto_compact_token_limit: null,
    effective_context_window_percent: 95,
    experimental_supported_tools: [],
    input_modalities: ['text', 'image'],
    supports_search_tool: true,
    minimal_client_version: '0.124.0',
    // The simulator only speaks HTTP/SSE, so it never advertises the WebSocket transport.
    prefer_websockets: false,
    use_responses_lite: false,
    tool_mode: null,
    multi_agent_version: null,
    default_service_tier: null,
    service_tiers: [{ id: 'priority', name: 'Fast', description: '1.5x speed, increased usage' }],
    additional_speed_tiers: ['fast'],
  };
}

export interface Catalog {
  body: { models: Record<string, unknown>[] };
  etag: string;
}

export function buildCatalog(slugs: string[]): Catalog {
  const body = { models: slugs.map((slug, i) => modelInfo(slug, i)) };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  return { body, etag: `W/"${hash}"` };
}
