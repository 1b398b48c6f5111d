// T5's pretraining inputs (Raffel et al. 2020, §3.1.4; transformers' run_t5_mlm_flax.py): a share of each
// packed sequence's tokens, in spans of mean length 3, is dropped from the encoder input, each span replaced
// by one sentinel, and the decoder writes the spans back, each after its sentinel:
//   input  "a b <extra_id_0> e <extra_id_1> h [SEP]"   target "<extra_id_0> c d <extra_id_1> f g [SEP]".
// Span counts depend only on the sequence length, so every packed batch has one input and one target length.
import type { Rng } from '../engine/random.js';
import type { HostTensor } from '../engine/runtime.js';

/** T5's mean noise-span length. */
export const MEAN_SPAN_LENGTH = 3;

/** The sentinel tokens, as T5's tokenizer names its 100 extra ids. */
export const SENTINELS: readonly string[] = Array.from({ length: 100 }, (_, i) => `<extra_id_${i}>`);

export interface SpanCorruptionOptions {
  /** Share of a sequence's tokens that are noise (T5: 0.15). */
  noiseDensity: number;
  /** Mean length of a noise span (T5: 3). */
  meanSpanLength: number;
  /** Sentinel ids in order: span i is replaced by sentinelIds[i]. */
  sentinelIds: readonly number[];
  /** Ends both the input and the target (T5's </s>). */
  eosId: number;
  /** The decoder's first input (T5: the pad id). */
  decoderStartId: number;
}

/** How many tokens are noise and in how many spans, as transformers' random_spans_noise_mask counts them. */
export function spanCounts(length: number, o: Pick<SpanCorruptionOptions, 'noiseDensity' | 'meanSpanLength'>) {
  if (length < 2) throw new Error(`span corruption needs sequences of at least 2 tokens, got ${length}`);
  const noise = Math.min(Math.max(Math.round(length * o.noiseDensity), 1), length - 1);
  const spans = Math.max(Math.round(Math.min(noise, length - noise) / o.meanSpanLength), 1);
  return { noise, spans };
}

/** Lengths of `segments` non-empty runs that add up to `items`, cut at random places. */
function randomSegmentation(items: number, segments: number, rng: Rng): number[] {
  const cuts = Array.from({ length: items - 1 }, (_, i) => i < segments - 1);
  for (let i = cuts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [cuts[i], cuts[j]] = [cuts[j], cuts[i]];
  }
  const lengths = [1];
  for (const cut of cuts) {
    if (cut) lengths.push(1);
    else lengths[lengths.length - 1]++;
  }
  return lengths;
}

/** One sequence's encoder input and decoder target; spans alternate kept, noise, kept, noise, ... */
export function corruptSpans(seq: readonly number[], rng: Rng, o: SpanCorruptionOptions) {
  const { noise, spans } = spanCounts(seq.length, o);
  if (spans > o.sentinelIds.length)
    throw new Error(
      `span corruption: ${spans} noise spans need ${spans} sentinels, the vocabulary has ${o.sentinelIds.length}`,
    );
  const noiseLengths = randomSegmentation(noise, spans, rng);
  const keptLengths = randomSegmentation(seq.length - noise, spans, rng);
  const input: number[] = [];
  const target: number[] = [];
  let at = 0;
  for (let s = 0; s < spans; s++) {
    input.push(...seq.slice(at, at + keptLengths[s]), o.sentinelIds[s]);
    at += keptLengths[s];
    target.push(o.sentinelIds[s], ...seq.slice(at, at + noiseLengths[s]));
    at += noiseLengths[s];
  }
  input.push(o.eosId);
  target.push(o.eosId);
  return { input, target };
}

/**
 * Feeds of one batch of equal-length sequences: input_ids / attention_mask [B, S'], decoder_input_ids [B, T]
 * (the targets shifted right after the start id), and every target as a scored decoder position:
 * lm_positions (flat b * T + t) and lm_labels.
 */
export function spanCorruptionFeeds(
  seqs: readonly number[][],
  rng: Rng,
  o: SpanCorruptionOptions,
): Record<string, HostTensor> {
  const pairs = seqs.map((s) => corruptSpans(s, rng, o));
  const S = pairs[0].input.length;
  const T = pairs[0].target.length;
  if (pairs.some((p) => p.input.length !== S || p.target.length !== T))
    throw new Error('span corruption batches need sequences of one length (packed)');
  const B = seqs.length;
  const ids = new BigInt64Array(B * S);
  const decoder = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B * T);
  pairs.forEach(({ input, target }, b) => {
    input.forEach((id, t) => (ids[b * S + t] = BigInt(id)));
    target.forEach((id, t) => {
      labels[b * T + t] = BigInt(id);
      decoder[b * T + t] = BigInt(t === 0 ? o.decoderStartId : target[t - 1]);
    });
  });
  return {
    input_ids: { data: ids, shape: [B, S] },
    attention_mask: { data: new BigInt64Array(B * S).fill(1n), shape: [B, S] },
    decoder_input_ids: { data: decoder, shape: [B, T] },
    lm_positions: { data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i)), shape: [B * T] },
    lm_labels: { data: labels, shape: [B * T] },
  };
}
