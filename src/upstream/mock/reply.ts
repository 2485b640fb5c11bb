/**
 * The simulated model: a deterministic reply policy that exercises every item kind
 * from plain prompts, so end-to-end tests can drive tool loops with real clients.
 */
import type { JsonObject } from './http';
import { isObject } from './http';
import { chunkText, type ItemSpec } from './events';

const SHELL_TOOLS = ['exec_command', 'shell_command', 'shell'] as const;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p): p is JsonObject => isObject(p) && typeof p.text === 'string')
    .map((p) => p.text as string)
    .join('');
}

function hasImage(content: unknown): boolean {
  return Array.isArray(content) && content.some((p) => isObject(p) && p.type === 'input_image');
}

function inputItems(request: JsonObject): JsonObject[] {
  const input = request.input;
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return Array.isArray(input) ? input.filter(isObject) : [];
}

function tools(request: JsonObject): JsonObject[] {
  return Array.isArray(request.tools) ? request.tools.filter(isObject) : [];
}

function findTool(request: JsonObject, name: string): JsonObject | undefined {
  return tools(request).find((t) => (t.type === 'function' || t.type === 'custom') && t.name === name);
}

function shellArguments(tool: (typeof SHELL_TOOLS)[number], cmd: string): string {
  if (tool === 'exec_command') return JSON.stringify({ cmd });
  if (tool === 'shell_command') return JSON.stringify({ command: cmd });
  return JSON.stringify({ command: ['bash', '-lc', cmd] });
}

const PLACEHOLDER: Record<string, unknown> = { string: 'x', number: 1, integer: 1, boolean: true, array: [], object: {} };

/** Arguments that satisfy the schema's required properties, so strict clients accept the call. */
function argumentsFromSchema(parameters: unknown): string {
  const args: JsonObject = {};
  if (isObject(parameters) && Array.isArray(parameters.required)) {
    const props = isObject(parameters.properties) ? parameters.properties : {};
    for (const name of parameters.required) {
      if (typeof name !== 'string') continue;
      const prop = props[name];
      const type = isObject(prop) && typeof prop.type === 'string' ? prop.type : 'string';
      args[name] = PLACEHOLDER[type] ?? 'x';
    }
  }
  return JSON.stringify(args);
}

const SAMPLE_PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello from the simulator\n*** End Patch\n';

function toolCall(tool: JsonObject): ItemSpec {
  const name = String(tool.name);
  if (tool.type === 'custom') return { type: 'custom_tool_call', name, input: name === 'apply_patch' ? SAMPLE_PATCH : 'x' };
  return { type: 'function_call', name, arguments: argumentsFromSchema(tool.parameters), deltas: true };
}

function message(text: string, phase: 'commentary' | 'final_answer' = 'final_answer'): ItemSpec {
  return { type: 'message', phase, chunks: chunkText(text, 8) };
}

function imageTool(request: JsonObject): JsonObject | undefined {
  return tools(request).find((t) => t.type === 'image_generation');
}

function image(request: JsonObject, prompt: string): ItemSpec {
  const partial = imageTool(request)?.partial_images;
  return { type: 'image_generation', prompt, partialImages: typeof partial === 'number' ? Math.min(3, partial) : 0 };
}

/** Verbs and plumbing words that say nothing about what a tool is about. */
const GENERIC_NAME_WORDS = new Set(['get', 'set', 'run', 'call', 'fetch', 'make', 'create', 'list', 'read', 'write', 'exec', 'command', 'shell', 'apply', 'patch', 'update', 'search', 'tool', 'find', 'view', 'image']);

/**
 * A function tool whose name is about what the user asks ("What's the weather in
 * Paris?" with `get_weather`), as a real model would pick it: one of the tool name's
 * topic words (4+ letters, not a generic verb) appears as a word in the prompt.
 */
function topicalTool(request: JsonObject, text: string): JsonObject | undefined {
  const words = new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);
  return tools(request).find((tool) => {
    if (tool.type !== 'function' || typeof tool.name !== 'string') return false;
    const topics = tool.name
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 4 && !GENERIC_NAME_WORDS.has(w));
    return topics.some((w) => words.has(w));
  });
}

/** What the model answers to this request (without the reasoning item). */
export function replyFor(request: JsonObject): ItemSpec[] {
  const items = inputItems(request);
  const last = items[items.length - 1];
  if (last && (last.type === 'function_call_output' || last.type === 'custom_tool_call_output')) {
    const output = textOf(last.output);
    return [message(`Tool result received: ${output.slice(0, 200)}`)];
  }

  const user = [...items].reverse().find((i) => (i.type === undefined || i.type === 'message') && i.role === 'user');
  const text = user ? textOf(user.content) : '';

  // A forced tool choice wins over the prompt, as it does upstream.
  const choice = request.tool_choice;
  if (isObject(choice)) {
    if (choice.type === 'image_generation' && imageTool(request)) return [image(request, text)];
    const forced = typeof choice.name === 'string' ? findTool(request, choice.name) : undefined;
    if (forced) return [toolCall(forced)];
  }

  const run = /run:\s*(.+)$/m.exec(text);
  if (run) {
    const cmd = run[1]!.trim();
    const shell = SHELL_TOOLS.find((name) => tools(request).some((t) => t.type === 'function' && t.name === name));
    if (shell) return [{ type: 'function_call', name: shell, arguments: shellArguments(shell, cmd), deltas: true }];
  }

  const call = /\bcall\s+([A-Za-z0-9_.-]+)/.exec(text);
  const called = call ? findTool(request, call[1]!) : undefined;
  if (called) return [toolCall(called)];

  const topical = topicalTool(request, text);
  if (topical) return [toolCall(topical)];

  if (imageTool(request) && /draw/i.test(text)) return [image(request, text)];

  return [message(`Echo: ${text.slice(0, 500)}${user && hasImage(user.content) ? ' [image received]' : ''}`)];
}

/**
 * The reasoning item a reasoning request gets. Faithful to the upstream: summary
 * text only when a summary was asked for, encrypted content only when included.
 */
export function reasoningFor(request: JsonObject, summaryOverride?: string): ItemSpec | null {
  const reasoning = request.reasoning;
  if (!isObject(reasoning) && summaryOverride === undefined) return null;
  const effort = isObject(reasoning) && typeof reasoning.effort === 'string' ? reasoning.effort : 'medium';
  if (effort === 'none' && summaryOverride === undefined) return null;
  const wantsSummary = isObject(reasoning) && typeof reasoning.summary === 'string' && reasoning.summary !== 'none';
  const summary = summaryOverride ?? (wantsSummary ? '**Reading the request**\n\nI will look at the latest message and answer it directly.' : null);
  const include = Array.isArray(request.include) ? request.include : [];
  const tokens = { minimal: 8, low: 16, medium: 64, high: 192, xhigh: 512 }[effort] ?? 64;
  return { type: 'reasoning', summary, encrypted: include.includes('reasoning.encrypted_content'), tokens };
}
