/**
 * Identifiers CodexIn mints when an upstream leaves them out. Strict clients
 * (openai-node ≥ 7.5) reject items without a non-empty unique id, and tool calls
 * without a call_id, so a missing one is generated in the upstream's own style.
 */

const ITEM_PREFIXES: Readonly<Record<string, string>> = {
  message: 'msg',
  reasoning: 'rs',
  function_call: 'fc',
  custom_tool_call: 'ctc',
  image_generation_call: 'ig',
  web_search_call: 'ws',
  file_search_call: 'fs',
  code_interpreter_call: 'ci',
  mcp_call: 'mcp',
  mcp_list_tools: 'mcpl',
  local_shell_call: 'lsh',
  shell_call: 'sh',
  shell_call_output: 'sho',
  compaction: 'cmp',
};

function randomPart(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

export function newItemId(itemType: string): string {
  return `${ITEM_PREFIXES[itemType] ?? 'item'}_${randomPart()}`;
}

export function newCallId(): string {
  return `call_${randomPart()}`;
}

export function newResponseId(): string {
  return `resp_${randomPart()}`;
}
