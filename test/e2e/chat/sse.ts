/**
 * Reading a Chat Completions SSE body byte-exactly, as a client without an SDK would:
 * the `data:` payload of every event in order (comments such as `: keepalive` skipped).
 */

/** The `data:` payloads of every SSE event in the body, in order (multi-line data joined by "\n"). */
export async function ssePayloads(response: Response): Promise<string[]> {
  const text = await response.text();
  const payloads: string[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) payloads.push(data.join('\n'));
  }
  return payloads;
}

export interface RawChunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: string;
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: { index: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason: string | null;
  }[];
  usage?: unknown;
}

/** Splits payloads into parsed chunks and asserts-free facts the tests check: was `[DONE]` last, and anything after it. */
export function parseChunks(payloads: string[]): { chunks: RawChunk[]; doneLast: boolean; doneCount: number } {
  const doneCount = payloads.filter((p) => p === '[DONE]').length;
  const doneLast = payloads.length > 0 && payloads[payloads.length - 1] === '[DONE]';
  const chunks = payloads.filter((p) => p !== '[DONE]').map((p) => JSON.parse(p) as RawChunk);
  return { chunks, doneLast, doneCount };
}
