// Because the backbone is frozen, each example's prefilled states (after layer l), its SISO
// teacher vector and its SISO logits never change: compute them once, keep them in memory, and
// let every training step run only the multiplexed part.
import type { HostTensor } from '../engine/runtime.js';
import { compile, float32 } from '../engine/runtime.js';
import type { EncodedExample } from '../data/batching.js';
import type { Backbone } from '../models/backbone.js';
import type { MuxHead } from './heads.js';
import { prefillGraph, sisoGraph } from './graphs.js';
import { Progress } from '../train/progress.js';
import { type TokenRow, padRows } from '../data/padding.js';

export interface Features {
  d: number;
  count: number;
  /** Per example: prefilled states [len, d] (real tokens only). */
  h: Float32Array[];
  lengths: Int32Array;
  labels: Int32Array;
  /** [count, d] SISO teacher vectors (BERT: final [CLS] state; T5/LLaMA: answer state). */
  teacher: Float32Array;
  /** [count, 2] SISO label logits: the accuracy reference. */
  sisoLogits: Float32Array;
}

export interface FeatureOptions {
  batchSize?: number;
  label?: string;
  quiet?: boolean;
}

/**
 * Token-id feeds of the fused inference graphs: `slots` null -> SISO layout [B, S]; a number N ->
 * multiplexed [G, N, S], consecutive items sharing a row, the last row padded with empty (dummy)
 * slots. Right padding to the longest item; plus the head's extra inputs.
 */
export function tokenFeeds(
  model: Backbone,
  items: readonly TokenRow[],
  slots: number | null,
  padId: number,
): Record<string, HostTensor> {
  const n = slots ?? 1;
  const rows = Math.ceil(items.length / n) * n;
  const b = padRows(items, padId, { rows });
  const shape = slots === null ? [rows, b.seq] : [rows / n, n, b.seq];
  const feeds: Record<string, HostTensor> = {
    input_ids: { data: b.inputIds, shape },
    attention_mask: { data: b.attentionMask, shape: [...shape] },
  };
  if (model.usesTokenTypes) feeds.token_type_ids = { data: b.tokenTypeIds, shape: [...shape] };
  return feeds;
}

export async function computeFeatures(
  model: Backbone,
  head: MuxHead,
  l: number,
  examples: readonly EncodedExample[],
  padId: number,
  o: FeatureOptions = {},
): Promise<Features> {
  const d = model.hiddenSize;
  const count = examples.length;
  const prefill = await compile(prefillGraph(model, l));
  const siso = await compile(sisoGraph(model, head, l));
  const f: Features = {
    d,
    count,
    h: new Array(count),
    lengths: new Int32Array(count),
    labels: new Int32Array(count),
    teacher: new Float32Array(count * d),
    sisoLogits: new Float32Array(count * 2),
  };
  // sorted by length so batches carry little padding; results go back to example order
  const order = [...examples.keys()].sort((a, b) => examples[a].ids.length - examples[b].ids.length);
  const bs = o.batchSize ?? 64;
  const progress = new Progress(o.label ?? 'features', count, o.quiet);
  for (let s = 0; s < order.length; s += bs) {
    const idx = order.slice(s, s + bs);
    const B = idx.length;
    const b = padRows(
      idx.map((i) => examples[i]),
      padId,
    );
    const seq = b.seq;
    const shape = [B, seq];
    const feeds: Record<string, HostTensor> = {
      input_ids: { data: b.inputIds, shape },
      attention_mask: { data: b.attentionMask, shape: [...shape] },
    };
    if (model.usesTokenTypes) feeds.token_type_ids = { data: b.tokenTypeIds, shape: [...shape] };
    const h = float32((await prefill.run(feeds)).h);
    const r = await siso.run({ h: { data: h, shape: [B, seq, d] }, attention_mask: feeds.attention_mask });
    const teacher = float32(r.teacher);
    const logits = float32(r.logits);
    idx.forEach((ex, row) => {
      const len = examples[ex].ids.length;
      f.h[ex] = h.slice(row * seq * d, (row * seq + len) * d);
      f.lengths[ex] = len;
      f.labels[ex] = examples[ex].label;
      f.teacher.set(teacher.subarray(row * d, (row + 1) * d), ex * d);
      f.sisoLogits.set(logits.subarray(row * 2, row * 2 + 2), ex * 2);
    });
    progress.update(Math.min(s + bs, count));
  }
  progress.stop();
  return f;
}

/** SISO accuracy of the frozen backbone on these features. */
export function sisoAccuracy(f: Features): number {
  let ok = 0;
  for (let i = 0; i < f.count; i++) if ((f.sisoLogits[2 * i + 1] > f.sisoLogits[2 * i] ? 1 : 0) === f.labels[i]) ok++;
  return ok / f.count;
}

/**
 * Feeds of the mux graph for instances `indices` in that order: consecutive instances share a
 * group (instance b -> group floor(b/N), slot b mod N); the last group is padded with dummy slots.
 * With `training`, also the labels and SISO teacher vectors the loss needs.
 */
export function assembleGroups(
  f: Features,
  indices: readonly number[],
  n: number,
  o: { training?: boolean } = {},
): Record<string, HostTensor> {
  const G = Math.ceil(indices.length / n);
  const S = Math.max(1, ...indices.map((i) => f.lengths[i]));
  const d = f.d;
  const h = new Float32Array(G * n * S * d);
  const mask = new BigInt64Array(G * n * S);
  const valid = new Float32Array(G * n);
  const labels = new BigInt64Array(G * n);
  const teacher = new Float32Array(G * n * d);
  indices.forEach((ex, slot) => {
    const len = f.lengths[ex];
    h.set(f.h[ex], slot * S * d);
    mask.fill(1n, slot * S, slot * S + len);
    valid[slot] = 1;
    labels[slot] = BigInt(f.labels[ex]);
    teacher.set(f.teacher.subarray(ex * d, (ex + 1) * d), slot * d);
  });
  const feeds: Record<string, HostTensor> = {
    h: { data: h, shape: [G, n, S, d] },
    mask: { data: mask, shape: [G, n, S] },
    valid: { data: valid, shape: [G, n] },
  };
  if (o.training) {
    feeds.labels = { data: labels, shape: [G * n] };
    feeds.teacher = { data: teacher, shape: [G * n, d] };
  }
  return feeds;
}
