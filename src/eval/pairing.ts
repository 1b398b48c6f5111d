// The evaluation protocol of spec §6: accuracy averaged over K random pairings of the dev set
// (instances are grouped in order, so each permutation pairs them differently), with its spread,
// next to the SISO accuracy of the same frozen backbone, plus the pairing sensitivity: the fraction
// of queries whose prediction changes with the partners they are multiplexed with.
import type { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { type Session, compile, float32 } from '../engine/runtime.js';
import type { Backbone } from '../models/backbone.js';
import { type Features, assembleGroups } from '../mux/features.js';
import { muxGraph } from '../mux/graphs.js';
import type { MuxHead } from '../mux/heads.js';
import type { MuxSpec } from '../mux/spec.js';
import { Progress } from '../train/progress.js';

export interface PairingResult {
  variant: string;
  n: number;
  l: number;
  examples: number;
  pairings: number;
  accuracies: number[];
  mean: number;
  std: number;
  siso_accuracy: number;
  /** Fraction of examples whose predicted label is not the same under every pairing. */
  pairing_sensitivity: number;
  /** Fraction of examples where the multiplexed prediction (first pairing) equals the SISO one. */
  agreement_with_siso: number;
  /**
   * Accuracy by slot position (0..N-1) over all pairings. A multiplexer that only decodes some slots
   * well (e.g. answers every slot with one instance's label) shows here even when the mean looks fine.
   */
  slot_accuracy: number[];
}

export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** Predicted class of every instance in `order`, grouped N at a time. */
export async function predictGrouped(
  session: Session,
  params: ParamSet,
  f: Features,
  order: number[],
  n: number,
  batchSize: number,
): Promise<Int8Array> {
  const pred = new Int8Array(f.count).fill(-1);
  const step = Math.max(n, Math.floor(batchSize / n) * n);
  for (let s = 0; s < order.length; s += step) {
    const idx = order.slice(s, s + step);
    const logits = float32((await session.run({ ...params.feeds(), ...assembleGroups(f, idx, n) }, ['logits'])).logits);
    idx.forEach((ex, slot) => (pred[ex] = logits[2 * slot + 1] > logits[2 * slot] ? 1 : 0));
  }
  return pred;
}

export async function evaluatePairings(
  model: Backbone,
  head: MuxHead,
  spec: MuxSpec,
  params: ParamSet,
  f: Features,
  o: PairingOptions = {},
): Promise<PairingResult> {
  const session = await compile(
    muxGraph(model, head, spec, params, {
      withLoss: false,
      adapterDropout: false,
      backboneDropout: false,
      seed: 0,
      lambda: 0,
      mu: 0,
    }),
  );
  const sisoPred = sisoPredictions(f);
  return evaluateWith(
    (order) => predictGrouped(session, params, f, order, spec.n, o.batchSize ?? 64),
    { variant: spec.variant, n: spec.n, l: spec.l, labels: f.labels, sisoPred },
    o,
  );
}

/** The SISO backbone's label for each example (two-class tasks). */
export const sisoPredictions = (f: Features) =>
  Int8Array.from({ length: f.count }, (_, i) => (f.sisoLogits[2 * i + 1] > f.sisoLogits[2 * i] ? 1 : 0));

/** The SISO backbone's accuracy on the examples of `f`. */
export const sisoAccuracy = (f: Features) =>
  sisoPredictions(f).reduce((a, p, i) => a + (p === f.labels[i] ? 1 : 0), 0) / f.count;

export interface PairingOptions {
  pairings?: number;
  seed?: number;
  batchSize?: number;
  quiet?: boolean;
}

/**
 * The protocol for any multiplexer: `predict(order)` answers every example when they are grouped N
 * at a time in that order. Shared by adapters (above) and the whole-model baselines (DataMUX, MUX-PLM).
 */
export async function evaluateWith(
  predict: (order: number[]) => Promise<Int8Array>,
  m: { variant: string; n: number; l: number; labels: ArrayLike<number>; sisoPred: ArrayLike<number> },
  o: PairingOptions = {},
): Promise<PairingResult> {
  const k = o.pairings ?? 10;
  const count = m.labels.length;
  const runs: Int8Array[] = [];
  const slotHits = new Array(m.n).fill(0);
  const slotCount = new Array(m.n).fill(0);
  const progress = new Progress(`eval ${m.variant} N=${m.n}`, k, o.quiet);
  for (let r = 0; r < k; r++) {
    const order = new Rng((o.seed ?? 4141) + r).shuffle([...Array(count).keys()]);
    const pred = await predict(order);
    order.forEach((ex, pos) => {
      slotCount[pos % m.n]++;
      if (pred[ex] === m.labels[ex]) slotHits[pos % m.n]++;
    });
    runs.push(pred);
    progress.update(r + 1);
  }
  progress.stop();
  const accuracies = runs.map((p) => p.reduce((a, v, i) => a + (v === m.labels[i] ? 1 : 0), 0) / count);
  let changed = 0;
  let agree = 0;
  let sisoHits = 0;
  for (let i = 0; i < count; i++) {
    if (runs.some((p) => p[i] !== runs[0][i])) changed++;
    if (runs[0][i] === m.sisoPred[i]) agree++;
    if (m.sisoPred[i] === m.labels[i]) sisoHits++;
  }
  const { mean, std } = meanStd(accuracies);
  return {
    variant: m.variant,
    n: m.n,
    l: m.l,
    examples: count,
    pairings: k,
    accuracies,
    mean,
    std,
    siso_accuracy: sisoHits / count,
    pairing_sensitivity: changed / count,
    agreement_with_siso: agree / count,
    slot_accuracy: slotHits.map((h, i) => h / Math.max(1, slotCount[i])),
  };
}
