// Predictions of a whole-model multiplexer (DataMUX, MUX-PLM) for examples grouped N at a time in a
// given order: the same pairing protocol as the adapters (pairing.ts). A last, incomplete group is
// filled with copies of the first examples of the order and their answers are dropped (spec §10.1).
import type { ParamSet } from '../engine/params.js';
import { type Session, float32 } from '../engine/runtime.js';
import type { EncodedExample } from '../data/batching.js';
import type { FullMuxSettings } from '../baselines/datamux.js';
import { groupFeeds } from '../baselines/full-mux-graph.js';

export async function predictFullMux(session: Session, params: ParamSet, s: FullMuxSettings, data: readonly EncodedExample[], order: readonly number[], padId: number, batchSize = 64): Promise<Int8Array> {
  const pred = new Int8Array(data.length).fill(-1);
  const step = Math.max(s.n, Math.floor(batchSize / s.n) * s.n);
  for (let start = 0; start < order.length; start += step) {
    const idx = order.slice(start, start + step);
    const real = idx.length;
    for (let f = 0; idx.length % s.n !== 0; f++) idx.push(order[f % order.length]);
    const batch = groupFeeds(s, idx.map((i) => data[i]), padId);
    const logits = float32((await session.run({ ...params.feeds(), ...batch.feeds }, ['logits'])).logits);
    const c = s.numLabels;
    for (let r = 0; r < real; r++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (logits[r * c + j] > logits[r * c + best]) best = j;
      pred[idx[r]] = best;
    }
  }
  return pred;
}
