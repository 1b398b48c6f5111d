// From examples to padded int64 batches: tokenise once, shuffle per epoch with a seeded RNG,
// group similar lengths to limit padding, pad each batch to its own longest row.
import type { HostTensor } from '../engine/runtime.js';
import type { Rng } from '../engine/random.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import type { Example } from './glue.js';
import { padRows } from './padding.js';

export interface EncodedExample {
  ids: number[];
  typeIds: number[];
  label: number;
}

export function encodeExamples(tok: TextTokenizer, examples: readonly Example[], maxLength: number): EncodedExample[] {
  return examples.map((e) => {
    const enc = tok.encode(e.textA, e.textB ?? null, { maxLength });
    return { ids: enc.ids, typeIds: enc.typeIds, label: e.label };
  });
}

/**
 * Batches of example indices for one epoch: shuffled, then sorted by length inside windows of
 * `bucketBatches` batches (less padding, still random), and the batch order shuffled again.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, rng: Rng, bucketBatches = 50): number[][] {
  const order = rng.shuffle([...lengths.keys()]);
  const window = batchSize * Math.max(1, bucketBatches);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += window) {
    const chunk = order.slice(i, i + window).sort((a, b) => lengths[a] - lengths[b]);
    for (let j = 0; j < chunk.length; j += batchSize) batches.push(chunk.slice(j, j + batchSize));
  }
  return bucketBatches > 1 ? rng.shuffle(batches) : batches;
}

/** Batches in the given order (evaluation): consecutive indices, no shuffling. */
export function sequentialBatches(n: number, batchSize: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) out.push([...Array(Math.min(batchSize, n - i)).keys()].map((k) => i + k));
  return out;
}

export interface TensorBatch {
  input_ids: HostTensor;
  attention_mask: HostTensor;
  token_type_ids: HostTensor;
  labels: HostTensor;
}

export function collate(
  examples: readonly EncodedExample[],
  indices: readonly number[],
  padId: number,
  padTo?: number,
): TensorBatch {
  const n = indices.length;
  const b = padRows(
    indices.map((i) => examples[i]),
    padId,
    { minLength: padTo },
  );
  const labels = BigInt64Array.from(indices, (i) => BigInt(examples[i].label));
  const shape = [n, b.seq];
  return {
    input_ids: { data: b.inputIds, shape },
    attention_mask: { data: b.attentionMask, shape: [...shape] },
    token_type_ids: { data: b.tokenTypeIds, shape: [...shape] },
    labels: { data: labels, shape: [n] },
  };
}
