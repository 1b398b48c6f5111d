// Predictions of a whole-model multiplexer (DataMUX, MUX-PLM) for examples grouped N at a time in a
// given order: the same pairing protocol as the adapters (pairing.ts). A last, incomplete group is
// filled with copies of the first examples of the order and their answers are dropped (spec §10.1).
import type { ParamSet } from '../engine/params.js';
import { type Session, compile, float32 } from '../engine/runtime.js';
import { type EncodedExample, encodeExamples } from '../data/batching.js';
import { type Task, loadExamples } from '../data/glue.js';
import type { FullMuxSettings } from '../baselines/datamux.js';
import { allParams, loadFullMux } from '../baselines/full-model.js';
import { fullMuxGraph, groupFeeds } from '../baselines/full-mux-graph.js';
import { TextTokenizer } from '../io/tokenizer.js';
import type { Features } from '../mux/features.js';
import { type PairingOptions, type PairingResult, evaluateWith, sisoPredictions } from './pairing.js';

/**
 * A DataMUX / MUX-PLM folder scored by the adapters' protocol: the same pairings, against the SISO
 * backbone's dev features `dev` (labels, SISO predictions). Its own tokenizer and training length.
 */
export async function evaluateFullMux(
  dir: string,
  task: Task,
  dataDir: string | null,
  dev: Features,
  o: PairingOptions & { limitDev?: number } = {},
): Promise<PairingResult> {
  const m = loadFullMux(dir);
  if (m.config.task !== task) throw new Error(`${dir}: trained on ${m.config.task}, evaluated on ${task}`);
  const params = allParams(m.model);
  const session = await compile(
    fullMuxGraph(m.model.bert, m.model.settings, params, m.model.vectors, {
      objective: 'task',
      training: false,
      seed: 0,
    }),
  );
  const tok = TextTokenizer.load(dir);
  let examples = loadExamples(task, 'dev', dataDir);
  if (o.limitDev) examples = examples.slice(0, o.limitDev);
  const enc = encodeExamples(tok, examples, Number(m.config.training.maxLength ?? 128));
  const predict = (order: number[]) => predictFullMux(session, params, m.model.settings, enc, order, tok.padId);
  return evaluateWith(
    predict,
    { variant: m.config.method, n: m.config.n, l: 0, labels: dev.labels, sisoPred: sisoPredictions(dev) },
    o,
  );
}

export async function predictFullMux(
  session: Session,
  params: ParamSet,
  s: FullMuxSettings,
  data: readonly EncodedExample[],
  order: readonly number[],
  padId: number,
  batchSize = 64,
): Promise<Int8Array> {
  const pred = new Int8Array(data.length).fill(-1);
  const step = Math.max(s.n, Math.floor(batchSize / s.n) * s.n);
  for (let start = 0; start < order.length; start += step) {
    const idx = order.slice(start, start + step);
    const real = idx.length;
    for (let f = 0; idx.length % s.n !== 0; f++) idx.push(order[f % order.length]);
    const batch = groupFeeds(
      s,
      idx.map((i) => data[i]),
      padId,
    );
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
