/** The `stream: false` edge: the pump's events collected into one Response object. */
import { ResponseAggregator } from '../stream/aggregate';
import type { Sink } from './sink';

export function aggregateSink(): Sink & { aggregator: ResponseAggregator } {
  const aggregator = new ResponseAggregator();
  return {
    aggregator,
    event: (event) => aggregator.push(event),
    keepalive() {},
    end() {},
    backpressure: () => null,
  };
}
