// DataMUX (Murahari et al., NeurIPS 2022; spec §9) and MUX-PLM (Murahari et al., Findings of EMNLP
// 2023; spec §10) on a BERT: the baselines that multiplex at the embeddings and train the whole
// model, where RevMUX trains only small adapters around a frozen one.
//
// Both mix the N instances of a group with fixed Gaussian "Hadamard" vectors v_i (|v_i| = ν):
//   x_t = (1/N) Σ_i e_{i,t} ⊙ v_i,   e_i = instance i's own embedding output,
// feed x back through the embedding module (positions added again, LayerNorm) and run all L layers
// once per group. They differ in how the N answers come back out:
// - DataMUX, "index" demux: instance i's sequence starts with an N-token prefix (filler tokens, its
//   index token at position i). The output at position i is instance i's key p_i, the output at
//   position N (the instances' [CLS]) is shared:
//     z_i = LN(GELU(W1 [p_i ; h_N] + b1)),  logits_i = W3 GELU(W2 z_i + b2) + b3.
//   An auxiliary token-retrieval loss (weight 0.1) asks, at every position t, for the token of a
//   random instance r_t: W_vocab LN(GELU(W [p_{r_t} ; h_t] + b)).
// - MUX-PLM, "index_pos" demux: learned keys k_i, no prefix. For instance i at position t:
//     a = GELU(W1 [k_i ; h_t] + b1),  (fine-tuning: a += GELU(Wm a + bm)),  z = LN(a + GELU(W2 a + b2)).
//   Classification reads t = 0, then a linear classifier; in pretraining the same head with the
//   tied vocabulary decoder does retrieval (priming) and masked LM under multiplexing.
//
// Choices where the papers' code does something else (README, "DataMUX and MUX-PLM"):
// - attention mask: the union of the instances' masks (a position is attended if any instance has a
//   token there), as RevMUX merges masks. The original attends padding, which makes a query's answer
//   depend on how far the batch is padded; the pairing protocol needs it to depend on its partners only.
// - vocabulary decoders are tied to the word embeddings (with their own bias), as BERT's MLM head.
// - W [a ; b] is computed as W_a a + W_b b (the two column blocks of W), which needs no broadcasted
//   concatenation; the weight is stored as one [d, 2d] matrix, as a Linear(2d, d) would be.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import type { ModelInputs } from '../models/backbone.js';
import type { BertGraph } from '../models/bert.js';
import { type Activation, activation, linear } from '../nn/layers.js';

import type { FullMuxMethod } from './methods.js';

export { FULL_MUX_METHODS, type FullMuxMethod } from './methods.js';

/** What a multiplexed full model is, besides its BERT (mirrors mux_config.json). */
export interface FullMuxSettings {
  method: FullMuxMethod;
  /** Instances per group. */
  n: number;
  /** Norm of each Gaussian Hadamard vector (DataMUX: 20). */
  nu: number;
  /** MUX-PLM demux blocks: 2 in pretraining, 3 in fine-tuning (the released code's "demux layers"). */
  demuxLayers: number;
  /** Classes of the task head; 0 for a MUX-PLM model fresh from pretraining (no classifier yet). */
  numLabels: number;
  /** DataMUX: token ids of the index prefix (filler, and one index token per instance). */
  fillerId: number;
  indexIds: number[];
}

/** Tokens each instance's sequence is prefixed with (DataMUX: N; MUX-PLM: none). */
export const prefixLength = (s: FullMuxSettings) => (s.method === 'datamux' ? s.n : 0);

/**
 * DataMUX's prefix tokens: [unused0] as filler and [unused1..N] as index tokens when the vocabulary
 * has them (BERT's does); otherwise the last ids of the vocabulary, as the original code does.
 */
export function prefixIds(
  n: number,
  vocabSize: number,
  tokenToId: (t: string) => number | undefined,
): { fillerId: number; indexIds: number[] } {
  const unused = Array.from({ length: n + 1 }, (_, i) => tokenToId(`[unused${i}]`));
  if (unused.every((x) => x !== undefined)) return { fillerId: unused[0]!, indexIds: unused.slice(1) as number[] };
  return { fillerId: vocabSize - 1, indexIds: Array.from({ length: n }, (_, i) => vocabSize - 2 - i) };
}

/** Trainable head parameters ([out, in] Linear weights), by method. */
export function headShapes(s: FullMuxSettings, d: number, vocab: number): [string, number[]][] {
  const lin = (name: string, out: number, inp: number): [string, number[]][] => [
    [`${name}.weight`, [out, inp]],
    [`${name}.bias`, [out]],
  ];
  const ln = (name: string): [string, number[]][] => [
    [`${name}.weight`, [d]],
    [`${name}.bias`, [d]],
  ];
  const classifier = s.numLabels > 0 ? lin('demux.classifier', s.numLabels, d) : [];
  if (s.method === 'datamux') {
    return [
      ...lin('demux.dense1', d, 2 * d),
      ...ln('demux.LayerNorm'),
      ...lin('demux.dense2', d, d),
      ...classifier,
      ...lin('retrieval.dense', d, 2 * d),
      ...ln('retrieval.LayerNorm'),
      ['retrieval.bias', [vocab]],
    ];
  }
  return [
    ['demux.keys', [s.n, d]],
    ...lin('demux.dense1', d, 2 * d),
    ...(s.demuxLayers >= 3 ? lin('demux.dense_mid', d, d) : []),
    ...lin('demux.dense2', d, d),
    ...ln('demux.LayerNorm'),
    ['demux.vocab_bias', [vocab]],
    ...classifier,
  ];
}

/**
 * FLOPs of the task head per instance (a multiply-add counts 2, as eval/flops.ts): the shared state's half of
 * dense1 runs once per group ([CLS] for DataMUX, position 0 for MUX-PLM), the rest per instance. MUX-PLM's keys'
 * half of dense1 depends on no input: once per batch, not counted.
 */
export function demuxFlops(s: FullMuxSettings, d: number): number {
  const perGroup = 2 * d * d;
  const perInstance =
    s.method === 'datamux'
      ? 2 * d * d + 2 * d * d // the key's half of dense1, dense2
      : (s.demuxLayers >= 3 ? 2 * d * d : 0) + 2 * d * d; // dense_mid, dense2
  return perInstance + perGroup / s.n + 2 * d * s.numLabels;
}

/**
 * Fresh head parameters: BERT's init (weights N(0, std), biases 0, LayerNorm 1/0), MUX-PLM keys
 * N(0, 1). Tensors present in `existing` (a loaded model) are taken from there instead.
 */
export function initHead(
  s: FullMuxSettings,
  d: number,
  vocab: number,
  std: number,
  seed: number,
  existing?: ParamSet,
): ParamSet {
  const rng = new Rng(seed);
  const ps = new ParamSet();
  for (const [name, shape] of headShapes(s, d, vocab)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const have = existing?.has(name) ? existing.get(name) : undefined;
    if (have && have.shape.join() === shape.join()) {
      ps.add(name, shape, have.data);
      continue;
    }
    if (have) throw new Error(`${name}: stored shape [${have.shape.join(', ')}], expected [${shape.join(', ')}]`);
    let data: Float32Array;
    if (name === 'demux.keys') data = rng.normalArray(size, 1);
    else if (name.includes('LayerNorm.weight')) data = new Float32Array(size).fill(1);
    else if (name.endsWith('.weight')) data = rng.normalArray(size, std);
    else data = new Float32Array(size);
    ps.add(name, shape, data);
  }
  return ps;
}

/** N Gaussian vectors in R^d, each rescaled to norm ν, as [N, d] (fixed, not trained). */
export function gaussianHadamard(n: number, d: number, nu: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = rng.normalArray(n * d, 1);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += v[i * d + j] ** 2;
    const scale = nu / Math.sqrt(sq);
    for (let j = 0; j < d; j++) v[i * d + j] *= scale;
  }
  return v;
}

export interface MixedStream {
  /** Final states of the groups [G, S, d]. */
  h: Value;
  /** Union of the instances' attention masks [G, S]. */
  mask: Value;
}

/**
 * Embeds each instance of ids/mask/types [G, N, S] separately, mixes them with the vectors [N, d],
 * sends the mix through the embedding module again and runs all layers: [G, S, d].
 */
export function multiplexedEncoder(
  b: BertGraph,
  vectors: Value,
  ids: Value,
  mask: Value,
  types: Value | null,
  layers: number,
): MixedStream {
  const flat = (x: Value) => op.reshape(x, [-1, x.shape[2]]);
  const inputs: ModelInputs = {
    inputIds: flat(ids),
    attentionMask: flat(mask),
    ...(types ? { tokenTypeIds: flat(types) } : {}),
  };
  const d = vectors.shape[1] as number;
  const e = op.reshape(b.embed(inputs), ids.shape.concat([d]) as (string | number)[], [ids]); // [G, N, S, d]
  const mixed = op.reduceMean(op.mul(e, op.unsqueeze(vectors, [1])), [1], false); // [G, S, d]
  const union = op.cast(op.reduceMax(op.cast(mask, 'float32'), [1], false), 'int64'); // [G, S]
  return { h: b.layers(b.embedVectors(mixed), b.context(union), 0, layers), mask: union };
}

type W = (name: string) => Value;

/** W [a ; b] + bias for a Linear(2d, d) stored as one [d, 2d] weight; a and b broadcast against each other. */
function pairLinear(w: W, name: string, a: Value, b: Value): Value {
  const weight = w(`${name}.weight`);
  const d = weight.shape[0] as number;
  const left = op.slice(weight, [{ axis: 1, start: 0, end: d }]);
  const right = op.slice(weight, [{ axis: 1, start: d, end: 2 * d }]);
  return op.add(op.add(linear(a, { weight: left }), linear(b, { weight: right })), w(`${name}.bias`));
}

const layerNorm = (w: W, name: string, x: Value, eps: number) =>
  op.layerNorm(x, w(`${name}.weight`), w(`${name}.bias`), { epsilon: eps });

export interface HeadContext {
  w: W;
  act: Activation;
  eps: number;
  dropout: (x: Value) => Value;
}

/** DataMUX index demux for classification: keys [G, N, d], shared [CLS] state [G, 1, d] -> logits [G, N, C]. */
export function datamuxClassify(c: HeadContext, keys: Value, cls: Value): Value {
  const z = layerNorm(c.w, 'demux.LayerNorm', activation(pairLinear(c.w, 'demux.dense1', keys, cls), c.act), c.eps);
  const hidden = activation(
    linear(c.dropout(z), { weight: c.w('demux.dense2.weight'), bias: c.w('demux.dense2.bias') }),
    c.act,
  );
  return linear(c.dropout(hidden), { weight: c.w('demux.classifier.weight'), bias: c.w('demux.classifier.bias') });
}

/**
 * DataMUX retrieval head: keys [M, d], states [M, d] -> vocabulary logits [M, V] (decoder tied to the word embeddings).
 */
export function datamuxRetrieve(c: HeadContext, wordEmbeddings: Value, keys: Value, states: Value): Value {
  const z = layerNorm(
    c.w,
    'retrieval.LayerNorm',
    activation(pairLinear(c.w, 'retrieval.dense', keys, states), c.act),
    c.eps,
  );
  return op.add(op.matmul(z, op.transpose(wordEmbeddings, [1, 0])), c.w('retrieval.bias'));
}

/** MUX-PLM index_pos demux: keys and states broadcast against each other -> demultiplexed states. */
export function muxplmDemux(c: HeadContext, keys: Value, states: Value, demuxLayers: number): Value {
  let a = c.dropout(activation(pairLinear(c.w, 'demux.dense1', keys, states), c.act));
  if (demuxLayers >= 3)
    a = op.add(
      a,
      c.dropout(
        activation(linear(a, { weight: c.w('demux.dense_mid.weight'), bias: c.w('demux.dense_mid.bias') }), c.act),
      ),
    );
  const out = activation(linear(a, { weight: c.w('demux.dense2.weight'), bias: c.w('demux.dense2.bias') }), c.act);
  return layerNorm(c.w, 'demux.LayerNorm', op.add(a, out), c.eps);
}

export function muxplmClassify(c: HeadContext, z: Value): Value {
  return linear(c.dropout(z), { weight: c.w('demux.classifier.weight'), bias: c.w('demux.classifier.bias') });
}

export function muxplmVocab(c: HeadContext, wordEmbeddings: Value, z: Value): Value {
  return op.add(op.matmul(z, op.transpose(wordEmbeddings, [1, 0])), c.w('demux.vocab_bias'));
}

/** Names the graph inputs of a group batch ([G, N, S] int64). */
export function declareGroupInputs(g: Graph, s: FullMuxSettings): { ids: Value; mask: Value; types: Value | null } {
  const ids = g.input('input_ids', 'int64', ['groups', s.n, 'seq']);
  const mask = g.input('attention_mask', 'int64', ['groups', s.n, 'seq']);
  // MUX-PLM's classification model passes no token types (spec §10.1); DataMUX's BERT version keeps them.
  const types = s.method === 'datamux' ? g.input('token_type_ids', 'int64', ['groups', s.n, 'seq']) : null;
  return { ids, mask, types };
}
