/**
 * Scripted answers: turns a Scenario (or the built-in model) into either a plain
 * HTTP answer or a stream plan.
 */
import { chunkText, failureSteps, turnSteps, type ItemSpec, type Turn } from './events';
import { json } from './http';
import type { JsonObject } from './http';
import { reasoningFor, replyFor } from './reply';
import { usageLimitResponse } from './ratelimits';
import { ev, type Step } from './streams';
import type { HttpErrorScenario, Scenario } from './types';

// A few milliseconds between events: fast suites, yet a client can cancel mid-stream.
export const DEFAULT_EVENT_DELAY_MS = 1;

export type Outcome =
  | { kind: 'response'; response: Response }
  | { kind: 'stream'; status: number; headers: Record<string, string>; steps: Iterable<Step>; delayMs: number };

export interface ScenarioContext {
  turn: Turn;
  plan: string;
  modelsEtag: string;
}

export function httpErrorResponse(s: HttpErrorScenario): Response {
  if (typeof s.body === 'string') {
    return new Response(s.body, { status: s.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...s.headers } });
  }
  return json(s.body, s.status, s.headers);
}

function stream(steps: Iterable<Step>, delayMs = DEFAULT_EVENT_DELAY_MS): Outcome {
  return { kind: 'stream', status: 200, headers: {}, steps, delayMs };
}

/** The built-in model: optional reasoning, then the reply policy. */
export function builtinSpecs(request: JsonObject): ItemSpec[] {
  const reasoning = reasoningFor(request);
  return reasoning ? [reasoning, ...replyFor(request)] : replyFor(request);
}

function withReasoning(request: JsonObject, specs: ItemSpec[], summary?: string): ItemSpec[] {
  const reasoning = reasoningFor(request, summary);
  return reasoning ? [reasoning, ...specs] : specs;
}

/** The first `n` events of a plan, then `tail` instead of the rest. */
function* cut(steps: Iterable<Step>, n: number, tail: () => Iterable<Step>, resume: boolean): Generator<Step> {
  let seen = 0;
  const it = steps[Symbol.iterator]();
  while (seen < n) {
    const s = it.next();
    if (s.done) break;
    yield s.value;
    if (s.value.kind === 'event') seen += 1;
  }
  yield* tail();
  if (resume) for (let s = it.next(); !s.done; s = it.next()) yield s.value;
}

const LOREM = ['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet, ', 'consectetur ', 'adipiscing ', 'elit. '];

function* manyDeltas(n: number): Generator<string> {
  for (let i = 0; i < n; i++) yield LOREM[i % LOREM.length]!;
}

export function resolve(scenario: Scenario | null, ctx: ScenarioContext): Outcome {
  const { turn } = ctx;
  const request = turn.request;
  if (!scenario) return stream(turnSteps(turn, builtinSpecs(request)));

  switch (scenario.kind) {
    case 'events':
      return {
        kind: 'stream',
        status: scenario.status ?? 200,
        headers: scenario.headers ?? {},
        steps: scenario.events.map((e) => ev({ ...(e as JsonObject) })),
        delayMs: scenario.delayMs ?? DEFAULT_EVENT_DELAY_MS,
      };
    case 'text': {
      const msg: ItemSpec = { type: 'message', phase: 'final_answer', chunks: chunkText(scenario.text, scenario.chunkSize ?? 8) };
      return stream(turnSteps(turn, withReasoning(request, [msg], scenario.reasoning)), scenario.delayMs);
    }
    case 'function_call': {
      const specs: ItemSpec[] = [];
      if (scenario.text !== undefined) specs.push({ type: 'message', phase: 'commentary', chunks: chunkText(scenario.text, 8) });
      specs.push({ type: 'function_call', name: scenario.name, arguments: scenario.arguments, deltas: scenario.argumentDeltas ?? true });
      return stream(turnSteps(turn, withReasoning(request, specs)));
    }
    case 'custom_tool_call':
      return stream(turnSteps(turn, withReasoning(request, [{ type: 'custom_tool_call', name: scenario.name, input: scenario.input }])));
    case 'http_error':
      return { kind: 'response', response: httpErrorResponse(scenario) };
    case 'usage_limit':
      return { kind: 'response', response: usageLimitResponse(scenario.plan ?? ctx.plan, scenario.resetsInSeconds, ctx.modelsEtag) };
    case 'fail_mid_stream': {
      const code = scenario.code ?? 'server_error';
      const message =
        scenario.message ??
        'An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists.';
      return stream(cut(turnSteps(turn, builtinSpecs(request)), scenario.afterEvents, () => failureSteps(turn, code, message), false));
    }
    case 'drop_mid_stream':
      return stream(cut(turnSteps(turn, builtinSpecs(request)), scenario.afterEvents, () => [{ kind: 'drop' }], false));
    case 'silence':
      return stream(cut(turnSteps(turn, builtinSpecs(request)), scenario.afterEvents, () => [{ kind: 'pause', ms: scenario.ms }], true));
    case 'many_events':
      return stream(turnSteps(turn, [{ type: 'message', phase: 'final_answer', chunks: manyDeltas(scenario.deltas) }]), scenario.intervalMs ?? 0);
  }
}
