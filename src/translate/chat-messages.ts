/**
 * Chat `messages` → Responses `instructions` + `input` items.
 *
 * - Leading system/developer messages become `instructions` (the ChatGPT upstream wants
 *   its system prompt there, and rejects the `system` role inside `input`). A
 *   system/developer message that arrives after the conversation started keeps its
 *   position as a `developer` input message, so its meaning ("from now on…") survives.
 * - Assistant text becomes an assistant `message` with `output_text`; its tool calls
 *   follow as `function_call` items, in order, so that each `function_call_output`
 *   after them finds its call.
 * - Fields Responses has no place for are dropped on purpose: `name` on messages,
 *   `cache_control` on parts (Anthropic-style prompt-caching hints some clients add),
 *   and `reasoning_content` on assistant messages (plain text cannot be replayed: the
 *   upstream only accepts reasoning as its own encrypted items).
 */

import { badRequest } from '../openai/api-error';
import type { ContentPart, JsonObject, ResponseItem } from '../openai/responses-types';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface TranslatedMessages {
  instructions?: string;
  input: ResponseItem[];
}

/** A call the assistant made that a later tool/function message may answer. */
interface OpenCall {
  callId: string;
  name: string;
  answered: boolean;
}

/** String content, or the text parts of an array joined by newlines (system, tool and function messages). */
function textOf(content: unknown, param: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw badRequest(`${param} must be a string or an array of content parts.`, param, 'invalid_type');
  return content
    .map((part, j) => {
      if (isObject(part) && (part.type === 'text' || part.type === 'input_text') && typeof part.text === 'string') return part.text;
      throw badRequest(`${param}[${j}] must be a text part here: only text is allowed in this message.`, `${param}[${j}]`, 'invalid_value');
    })
    .join('\n');
}

function imagePart(part: JsonObject, param: string): ContentPart {
  const image = part.image_url;
  const url = typeof image === 'string' ? image : isObject(image) ? image.url : undefined;
  if (typeof url !== 'string' || url === '') {
    throw badRequest(`${param}.image_url.url is required: pass an http(s) URL or a data: URL.`, `${param}.image_url`, 'invalid_value');
  }
  const out: ContentPart = { type: 'input_image', image_url: url };
  if (isObject(image) && typeof image.detail === 'string') out.detail = image.detail;
  return out;
}

function filePart(part: JsonObject, param: string): ContentPart {
  const file = part.file;
  if (isObject(file) && typeof file.file_id === 'string') return { type: 'input_file', file_id: file.file_id };
  if (isObject(file) && typeof file.file_data === 'string') {
    const out: ContentPart = { type: 'input_file', file_data: file.file_data };
    if (typeof file.filename === 'string') out.filename = file.filename;
    return out;
  }
  throw badRequest(`${param}.file needs a file_id (upload it to /v1/files first) or file_data.`, `${param}.file`, 'invalid_value');
}

/** One user-side content part → a Responses input part. */
function inputPart(part: unknown, param: string): ContentPart {
  if (!isObject(part)) throw badRequest(`${param} must be a content part object.`, param, 'invalid_type');
  switch (part.type) {
    case 'text':
      if (typeof part.text !== 'string') throw badRequest(`${param}.text must be a string.`, `${param}.text`, 'invalid_type');
      return { type: 'input_text', text: part.text };
    case 'image_url':
      return imagePart(part, param);
    case 'file':
      return filePart(part, param);
    case 'input_audio':
      throw badRequest(
        'Audio input is not supported by this model backend: transcribe it first with /v1/audio/transcriptions and send the text.',
        `${param}.type`,
        'unsupported_content_type',
      );
    default:
      throw badRequest(`${param}.type "${String(part.type)}" is not supported: use text, image_url or file.`, `${param}.type`, 'invalid_value');
  }
}

function userContent(content: unknown, param: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'input_text', text: content }];
  if (!Array.isArray(content)) throw badRequest(`${param} must be a string or an array of content parts.`, param, 'invalid_type');
  return content.map((part, j) => inputPart(part, `${param}[${j}]`));
}

/** Assistant text (and refusal) → the content of an assistant message item. */
function assistantContent(message: JsonObject, param: string): ContentPart[] {
  const parts: ContentPart[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') parts.push({ type: 'output_text', text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part, j) => {
      const at = `${param}.content[${j}]`;
      if (isObject(part) && part.type === 'text' && typeof part.text === 'string') parts.push({ type: 'output_text', text: part.text });
      else if (isObject(part) && part.type === 'refusal' && typeof part.refusal === 'string') parts.push({ type: 'refusal', refusal: part.refusal });
      else throw badRequest(`${at} must be a text or refusal part in an assistant message.`, at, 'invalid_value');
    });
  } else if (content !== undefined && content !== null) {
    throw badRequest(`${param}.content must be a string, an array of parts or null.`, `${param}.content`, 'invalid_type');
  }
  if (typeof message.refusal === 'string' && message.refusal !== '') parts.push({ type: 'refusal', refusal: message.refusal });
  return parts;
}

/** Some clients send arguments as an object instead of a JSON string. */
const argumentsText = (args: unknown): string => (typeof args === 'string' ? args : args === undefined || args === null ? '' : JSON.stringify(args));

export function chatMessagesToInput(messages: unknown, customToolNames: ReadonlySet<string> = new Set()): TranslatedMessages {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badRequest('messages must be a non-empty array: send at least one user message.', 'messages', 'invalid_value');
  }
  const instructions: string[] = [];
  const input: ResponseItem[] = [];
  const openCalls: OpenCall[] = [];
  // Call ids of freeform-tool calls: their results must be custom_tool_call_output items.
  const customCallIds = new Set<string>();
  let conversationStarted = false;

  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isObject(message)) throw badRequest(`${at} must be a message object.`, at, 'invalid_type');
    const role = message.role;

    if (role === 'system' || role === 'developer') {
      const text = textOf(message.content, `${at}.content`);
      if (!conversationStarted) {
        if (text !== '') instructions.push(text);
      } else {
        input.push({ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] });
      }
      return;
    }
    conversationStarted = true;

    switch (role) {
      case 'user':
        input.push({ type: 'message', role: 'user', content: userContent(message.content, `${at}.content`) });
        return;

      case 'assistant': {
        const content = assistantContent(message, at);
        if (content.length > 0) input.push({ type: 'message', role: 'assistant', content });
        const toolCalls = message.tool_calls;
        if (toolCalls !== undefined && toolCalls !== null && !Array.isArray(toolCalls)) {
          throw badRequest(`${at}.tool_calls must be an array.`, `${at}.tool_calls`, 'invalid_type');
        }
        (toolCalls ?? []).forEach((call: unknown, j: number) => {
          const callAt = `${at}.tool_calls[${j}]`;
          if (!isObject(call) || typeof call.id !== 'string' || call.id === '') {
            throw badRequest(`${callAt}.id is required: replay the id the tool call was created with.`, `${callAt}.id`, 'missing_required_parameter');
          }
          if (call.type === 'custom' && isObject(call.custom) && typeof call.custom.name === 'string') {
            input.push({ type: 'custom_tool_call', call_id: call.id, name: call.custom.name, input: argumentsText(call.custom.input) });
            customCallIds.add(call.id);
            openCalls.push({ callId: call.id, name: call.custom.name, answered: false });
            return;
          }
          const fn = call.function;
          if (!isObject(fn) || typeof fn.name !== 'string' || fn.name === '') {
            throw badRequest(`${callAt}.function.name is required.`, `${callAt}.function.name`, 'missing_required_parameter');
          }
          if (customToolNames.has(fn.name)) {
            // We present freeform-tool calls to chat clients as function calls; map the replay back.
            input.push({ type: 'custom_tool_call', call_id: call.id, name: fn.name, input: argumentsText(fn.arguments) });
            customCallIds.add(call.id);
          } else {
            input.push({ type: 'function_call', call_id: call.id, name: fn.name, arguments: argumentsText(fn.arguments) });
          }
          openCalls.push({ callId: call.id, name: fn.name, answered: false });
        });
        const legacy = message.function_call;
        if (isObject(legacy) && typeof legacy.name === 'string') {
          // Legacy calls have no id; make a stable one so the `function` reply can be paired with it.
          const callId = `call_legacy_${i}`;
          input.push({ type: 'function_call', call_id: callId, name: legacy.name, arguments: argumentsText(legacy.arguments) });
          openCalls.push({ callId, name: legacy.name, answered: false });
        }
        return;
      }

      case 'tool': {
        const callId = message.tool_call_id;
        if (typeof callId !== 'string' || callId === '') {
          throw badRequest(`${at}.tool_call_id is required: name the tool call this result answers.`, `${at}.tool_call_id`, 'missing_required_parameter');
        }
        const open = openCalls.find((call) => call.callId === callId);
        if (open) open.answered = true;
        input.push({
          type: customCallIds.has(callId) ? 'custom_tool_call_output' : 'function_call_output',
          call_id: callId,
          output: toolOutput(message.content, `${at}.content`),
        });
        return;
      }

      case 'function': {
        const name = message.name;
        const open = openCalls.find((call) => !call.answered && call.name === name);
        if (!open) {
          throw badRequest(
            `${at} is a function result for "${String(name)}" but no earlier assistant message called that function.`,
            `${at}.name`,
            'invalid_value',
          );
        }
        open.answered = true;
        input.push({ type: 'function_call_output', call_id: open.callId, output: textOf(message.content, `${at}.content`) });
        return;
      }

      default:
        throw badRequest(
          `${at}.role "${String(role)}" is not supported: use system, developer, user, assistant, tool or function.`,
          `${at}.role`,
          'invalid_value',
        );
    }
  });

  const result: TranslatedMessages = { input };
  if (instructions.length > 0) result.instructions = instructions.join('\n\n');
  return result;
}

/**
 * A tool result: text-only content is flattened to one string (what every upstream
 * accepts); content with images or files stays a list of input parts, which
 * `function_call_output.output` also accepts, so a screenshot tool keeps its image.
 */
function toolOutput(content: unknown, param: string): string | ContentPart[] {
  if (Array.isArray(content) && content.some((part) => isObject(part) && part.type !== 'text')) {
    return userContent(content, param);
  }
  return textOf(content, param);
}
