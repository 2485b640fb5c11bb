/**
 * Chat Completions tool declarations and tool choice → their Responses forms.
 *
 * Chat nests a function under `function: {...}`; Responses flattens it onto the tool.
 * Tool types we do not know are forwarded untouched so a newer client's tool still
 * reaches the upstream (DESIGN.md §7).
 */

import { badRequest } from '../openai/api-error';
import type { ChatFunctionDefinition, ChatToolChoice } from '../openai/chat-types';
import type { JsonObject, Tool } from '../openai/responses-types';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A function definition → a flat Responses function tool. */
export function functionTool(fn: ChatFunctionDefinition, param: string): Tool {
  if (!isObject(fn) || typeof fn.name !== 'string' || fn.name === '') {
    throw badRequest(`${param}.name is required: give every function tool a name.`, `${param}.name`, 'missing_required_parameter');
  }
  const tool: Tool = {
    type: 'function',
    name: fn.name,
    // Responses requires `parameters`; Chat lets a no-argument function omit it.
    parameters: fn.parameters ?? { type: 'object', properties: {} },
    // Responses defaults `strict` to true, Chat to false. A Chat schema written for
    // non-strict mode (optional properties, no additionalProperties:false) is rejected
    // in strict mode, so keep the Chat default unless the client opted in.
    strict: fn.strict ?? false,
  };
  if (fn.description !== undefined) tool.description = fn.description;
  return tool;
}

/** Chat `{type:"custom", custom:{name, description, format}}` → Responses `{type:"custom", name, description, format}`. */
function customTool(tool: JsonObject, param: string): Tool {
  const custom = tool.custom;
  if (!isObject(custom) || typeof custom.name !== 'string' || custom.name === '') {
    throw badRequest(`${param}.custom.name is required: give every custom tool a name.`, `${param}.custom.name`, 'missing_required_parameter');
  }
  const out: Tool = { type: 'custom', name: custom.name };
  if (custom.description !== undefined) out.description = custom.description;
  const format = custom.format;
  if (isObject(format) && format.type === 'grammar' && isObject(format.grammar)) {
    // Chat nests the grammar; Responses puts syntax and definition on the format itself.
    out.format = { type: 'grammar', syntax: format.grammar.syntax, definition: format.grammar.definition };
  } else if (format !== undefined) {
    out.format = format;
  }
  return out;
}

export interface TranslatedTools {
  tools: Tool[];
  /** Names of freeform (custom) tools: their replayed calls must go back as custom_tool_call items. */
  customToolNames: Set<string>;
}

export function chatToolsToResponses(tools: unknown, param = 'tools'): TranslatedTools {
  if (!Array.isArray(tools)) throw badRequest(`${param} must be an array of tools.`, param, 'invalid_type');
  const customToolNames = new Set<string>();
  const translated = tools.map((tool, i): Tool => {
    const at = `${param}[${i}]`;
    if (!isObject(tool) || typeof tool.type !== 'string') {
      throw badRequest(`${at} must be an object with a "type".`, at, 'invalid_type');
    }
    if (tool.type === 'function') return functionTool(tool.function as ChatFunctionDefinition, `${at}.function`);
    if (tool.type === 'custom') {
      const out = customTool(tool, at);
      customToolNames.add(out.name as string);
      return out;
    }
    return { ...tool, type: tool.type };
  });
  return { tools: translated, customToolNames };
}

/** Legacy `functions: [...]` (pre-`tools`) → function tools. */
export function legacyFunctionsToTools(functions: unknown): Tool[] {
  if (!Array.isArray(functions)) throw badRequest('functions must be an array of function definitions.', 'functions', 'invalid_type');
  return functions.map((fn, i) => functionTool(fn as ChatFunctionDefinition, `functions[${i}]`));
}

/** A Chat named-tool reference `{type, function|custom: {name}}` → Responses `{type, name}`. */
function namedChoice(ref: JsonObject): JsonObject {
  const type = ref.type;
  if (type === 'function' && isObject(ref.function)) return { type: 'function', name: ref.function.name };
  if (type === 'custom' && isObject(ref.custom)) return { type: 'custom', name: ref.custom.name };
  return ref;
}

export function chatToolChoiceToResponses(choice: ChatToolChoice): unknown {
  if (typeof choice === 'string' || !isObject(choice)) return choice;
  if (choice.type === 'allowed_tools' && isObject(choice.allowed_tools)) {
    // Chat nests `{mode, tools}` under `allowed_tools`; Responses flattens them.
    const { mode, tools } = choice.allowed_tools;
    return { type: 'allowed_tools', mode, tools: Array.isArray(tools) ? tools.map((t) => (isObject(t) ? namedChoice(t) : t)) : tools };
  }
  return namedChoice(choice);
}

/** Legacy `function_call: "none" | "auto" | {name}` → tool_choice. */
export function legacyFunctionCallToToolChoice(functionCall: unknown): unknown {
  if (isObject(functionCall) && typeof functionCall.name === 'string') return { type: 'function', name: functionCall.name };
  return functionCall;
}
