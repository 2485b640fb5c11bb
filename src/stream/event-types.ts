/**
 * Which Responses event types CodexIn passes to clients, and which output item each
 * item-scoped event belongs to.
 *
 * The allow-list is the published Responses streaming-event union as openai-node 7.57
 * validates it (`internal/responses/response-accumulator` `supportedResponseEventTypes`).
 * Since 7.5 its `responses.stream()` helper throws "Unhandled response stream event" on
 * any other type, so anything upstream-only (`codex.rate_limits`, `codex.response.metadata`,
 * `response.metadata`, future experiments) is dropped rather than forwarded. A type added
 * here must first be accepted by that validator, or strict clients break.
 *
 * `keepalive` is accepted by the SDK but dropped by us: CodexIn sends its own SSE comment
 * keep-alives (keepalive.ts), which cost no sequence number.
 */

export const LIFECYCLE_EVENT_TYPES: ReadonlySet<string> = new Set([
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

/**
 * Item-scoped events → the output item `type` they must target. The strict accumulator
 * checks both `item_id` (equal to the target item's id) and the target's type.
 * `response.content_part.*` are resolved by part type (see part-kinds.ts).
 */
export const ITEM_EVENT_TARGETS: Readonly<Record<string, string>> = {
  'response.output_text.delta': 'message',
  'response.output_text.done': 'message',
  'response.output_text.annotation.added': 'message',
  'response.refusal.delta': 'message',
  'response.refusal.done': 'message',
  'response.function_call_arguments.delta': 'function_call',
  'response.function_call_arguments.done': 'function_call',
  'response.custom_tool_call_input.delta': 'custom_tool_call',
  'response.custom_tool_call_input.done': 'custom_tool_call',
  'response.mcp_call_arguments.delta': 'mcp_call',
  'response.mcp_call_arguments.done': 'mcp_call',
  'response.mcp_call.in_progress': 'mcp_call',
  'response.mcp_call.completed': 'mcp_call',
  'response.mcp_call.failed': 'mcp_call',
  'response.mcp_list_tools.in_progress': 'mcp_list_tools',
  'response.mcp_list_tools.completed': 'mcp_list_tools',
  'response.mcp_list_tools.failed': 'mcp_list_tools',
  'response.shell_call_command.added': 'shell_call',
  'response.shell_call_command.delta': 'shell_call',
  'response.shell_call_command.done': 'shell_call',
  'response.shell_call_output_content.delta': 'shell_call_output',
  'response.shell_call_output_content.done': 'shell_call_output',
  'response.reasoning_text.delta': 'reasoning',
  'response.reasoning_text.done': 'reasoning',
  'response.reasoning_summary_part.added': 'reasoning',
  'response.reasoning_summary_part.done': 'reasoning',
  'response.reasoning_summary_text.delta': 'reasoning',
  'response.reasoning_summary_text.done': 'reasoning',
  'response.code_interpreter_call_code.delta': 'code_interpreter_call',
  'response.code_interpreter_call_code.done': 'code_interpreter_call',
  'response.code_interpreter_call.in_progress': 'code_interpreter_call',
  'response.code_interpreter_call.interpreting': 'code_interpreter_call',
  'response.code_interpreter_call.completed': 'code_interpreter_call',
  'response.file_search_call.in_progress': 'file_search_call',
  'response.file_search_call.searching': 'file_search_call',
  'response.file_search_call.completed': 'file_search_call',
  'response.web_search_call.in_progress': 'web_search_call',
  'response.web_search_call.searching': 'web_search_call',
  'response.web_search_call.completed': 'web_search_call',
  'response.image_generation_call.in_progress': 'image_generation_call',
  'response.image_generation_call.generating': 'image_generation_call',
  'response.image_generation_call.partial_image': 'image_generation_call',
  'response.image_generation_call.completed': 'image_generation_call',
  'response.compaction.compacting': 'compaction',
};

/** Content-part lifecycle events; their target type depends on `part.type`. */
export const CONTENT_PART_EVENT_TYPES: ReadonlySet<string> = new Set(['response.content_part.added', 'response.content_part.done']);

/** Events that belong to the response but to no output item. */
const RESPONSE_SCOPED_EVENT_TYPES = ['response.audio.delta', 'response.audio.done', 'response.audio.transcript.delta', 'response.audio.transcript.done'];

export const ALLOWED_EVENT_TYPES: ReadonlySet<string> = new Set([
  ...LIFECYCLE_EVENT_TYPES,
  'response.output_item.added',
  'response.output_item.done',
  ...CONTENT_PART_EVENT_TYPES,
  ...Object.keys(ITEM_EVENT_TARGETS),
  ...RESPONSE_SCOPED_EVENT_TYPES,
  'error',
  'keepalive',
]);
