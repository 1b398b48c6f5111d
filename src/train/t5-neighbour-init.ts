/**
 * The neighbour initialisation (neighbour-attention-init.ts) for T5's span corruption.
 *
 * Why: span corruption left at random weights sits on the same unigram plateau as masked LM (session 15:
 * held-out accuracy flat from 0.5M to 1.5M tokens while the loss crawled). To write a span back, the decoder must
 * find where its sentinel sits in the encoder input (a match on content) and read the words around it (a
 * look at fixed offsets). Neither route exists at random weights, so both are set; everything stays trainable:
 * - encoder: heads 0 and 1 of the relative-bias table, which every encoder block shares, peak at the key one
 *   to the left and one to the right, and their queries start at zero, so in every block each position
 *   gathers its neighbours from the first step;
 * - cross-attention: in every decoder block heads 0 and 1 get one random projection as both query and key,
 *   so q . k follows x_dec . x_enc and a decoder position attends to the encoder positions holding its own
 *   token: the sentinel the decoder has just read finds its place in the input.
 */
import { Rng } from '../engine/random.js';
import type { T5 } from '../models/t5.js';

/** Key offsets (key - query) of the encoder's heads 0 and 1. */
export const T5_NEIGHBOUR_OFFSETS = [-1, 1];
/** Attention logit of the routed key above the others at initialisation, as for BERT. */
const PEAK_LOGIT = 8;
/**
 * Mean logit of a token meeting itself in cross-attention: it varies by ~18% from token to token (the share of
 * a vector in the 64 dimensions of a head), and unrelated pairs score ~PEAK / 16, so 12 keeps every match ahead.
 */
const MATCH_LOGIT = 12;

/** The bidirectional bucket of a small offset (transformers' _relative_position_bucket, exact range). */
export function exactBucket(offset: number, numBuckets: number): number {
  const half = Math.floor(numBuckets / 2);
  if (Math.abs(offset) >= Math.floor(half / 2))
    throw new Error(`offset ${offset} is not in the exact range of ${numBuckets} buckets`);
  return (offset > 0 ? half : 0) + Math.abs(offset);
}

export function t5NeighbourInit(t5: T5, seed: number): void {
  const c = t5.config;
  const heads = T5_NEIGHBOUR_OFFSETS.length;
  if (c.num_heads < heads) throw new Error(`T5 neighbour init: needs ${heads} heads, the model has ${c.num_heads}`);
  const table = t5.weights.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight')
    .data as Float32Array; // [buckets, heads]
  T5_NEIGHBOUR_OFFSETS.forEach((offset, h) => {
    for (let b = 0; b < c.relative_attention_num_buckets; b++) table[b * c.num_heads + h] = 0;
    table[exactBucket(offset, c.relative_attention_num_buckets) * c.num_heads + h] = PEAK_LOGIT;
  });
  // a zero query leaves those heads' logits to the bias alone (random q . k has a standard deviation of ~1)
  for (let i = 0; i < c.num_layers; i++)
    t5.weights.get(`encoder.block.${i}.layer.0.SelfAttention.q.weight`).data.fill(0, 0, heads * c.d_kv * c.d_model);
  // q . k = x P^T P y, with E[P^T P] = d_kv sigma^2 I; RMS-normed vectors have x . x = d_model, so a token
  // meeting itself scores about MATCH_LOGIT and two unrelated tokens about MATCH_LOGIT / sqrt(d_model)
  const sigma = Math.sqrt(MATCH_LOGIT / c.d_model / c.d_kv);
  const rng = new Rng(seed + 7919);
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const prefix = `decoder.block.${i}.layer.1.EncDecAttention`;
    const wq = t5.weights.get(`${prefix}.q.weight`).data as Float32Array; // [heads * d_kv, d_model]
    const wk = t5.weights.get(`${prefix}.k.weight`).data as Float32Array;
    for (let j = 0; j < heads * c.d_kv * c.d_model; j++) wq[j] = wk[j] = sigma * rng.normal();
  }
}
