/** The image-analysis helper's SSE (`delta`, then one `done` or `error`), from its synchronous translator. */
import { AnalysisTranslator, encodeAnalysisSse } from '../translate/image-analysis-stream';
import type { SseFormat } from './sse-body';

export function analysisSseFormat(model: string): SseFormat {
  const translator = new AnalysisTranslator(model);
  return {
    event(event) {
      let text = '';
      for (const out of translator.push(event)) text += encodeAnalysisSse(out);
      return text;
    },
    trailer() {
      const last = translator.end();
      return last ? encodeAnalysisSse(last) : '';
    },
  };
}
