// Graphs and feeds of the whole-model multiplexers (DataMUX, MUX-PLM; see datamux.ts): one graph
// per objective, every BERT and head weight a trainable input, the Hadamard vectors constant.
//
// Inputs: input_ids / attention_mask (/ token_type_ids for DataMUX) as [G, N, S], already carrying
// DataMUX's prefix. Task: labels [G*N] (instance g*N + i), logits [G*N, C] out. Retrieval and masked
// LM score M chosen (group, position, instance) triples: aux_pos = g*S + t into the mixed stream,
// aux_key = the instance (MUX-PLM: i; DataMUX: g*N + i, the row of its key state), aux_labels.
import { Graph, type Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import type { ParamSet } from '../engine/params.js';
import type { HostTensor } from '../engine/runtime.js';
import type { Rng } from '../engine/random.js';
import type { Backbone } from '../models/backbone.js';
import type { Bert } from '../models/bert.js';
import { correctCount, crossEntropy } from '../nn/losses.js';
import {
  type FullMuxSettings,
  type HeadContext,
  datamuxClassify,
  datamuxRetrieve,
  declareGroupInputs,
  multiplexedEncoder,
  muxplmClassify,
  muxplmDemux,
  muxplmVocab,
  prefixLength,
} from './datamux.js';
import { padRows } from '../data/padding.js';
import { allParams, bertEncoder, freshFullMux } from './full-model.js';
import type { FullMuxMethod } from './methods.js';

/** task: classification (DataMUX adds retrieval × retrievalWeight); retrieval: priming; mlm: masked LM. */
export type FullMuxObjective = 'task' | 'retrieval' | 'mlm';

export interface FullMuxGraphOptions {
  objective: FullMuxObjective;
  /** Gradients out (and dropout on, unless `dropout` says otherwise). */
  training: boolean;
  dropout?: boolean;
  seed: number;
  /** DataMUX task loss = (1 - w)·CE + w·retrieval (spec §9.5: w = 0.1). */
  retrievalWeight?: number;
  /** Every weight a constant of the graph, not an input fed at each run (inference only: benchmarks). */
  constantWeights?: boolean;
}

export function fullMuxGraph(
  model: Bert,
  s: FullMuxSettings,
  params: ParamSet,
  vectors: Float32Array,
  o: FullMuxGraphOptions,
): Graph {
  const g = new Graph(`${s.method}-${o.objective}-${o.training ? 'train' : 'eval'}-n${s.n}`);
  if (o.constantWeights && o.training) throw new Error('fullMuxGraph: constant weights cannot be trained');
  const p = o.constantWeights ? params.constants(g) : params.declare(g);
  const d = model.hiddenSize;
  const v = g.initializer(vectors, [s.n, d], 'float32', { prefix: 'mux.vectors' });
  const { ids, mask, types } = declareGroupInputs(g, s);
  const dropout = o.dropout ?? o.training;
  const b = model.bind(g, { training: dropout, seed: o.seed, trainable: (n) => p.get(n) });
  const w = (name: string) => {
    const x = p.get(name);
    if (!x) throw new Error(`${s.method}: no parameter ${name}`);
    return x;
  };
  const pDrop = model.config.hidden_dropout_prob;
  let dropCount = 0;
  const c: HeadContext = {
    w,
    act: model.config.hidden_act,
    eps: model.config.layer_norm_eps,
    dropout: (x) => (dropout && pDrop > 0 ? op.dropout(x, pDrop, true, o.seed * 1000 + 500 + dropCount++).output : x),
  };
  const { h } = multiplexedEncoder(b, v, ids, mask, types, model.numLayers); // [G, S, d]
  const words = w('embeddings.word_embeddings.weight');
  const k = prefixLength(s);

  const losses: { loss: Value; weight: number }[] = [];
  const wantTask = o.objective === 'task';
  // weight of the retrieval / MLM loss: all of it for those objectives; DataMUX's share when training the task
  const auxWeight = !wantTask ? 1 : s.method === 'datamux' && o.training ? (o.retrievalWeight ?? 0.1) : 0;
  if (wantTask) {
    let logits: Value;
    if (s.method === 'datamux') {
      const keys = op.slice(h, [{ axis: 1, start: 0, end: k }]); // [G, N, d]
      const cls = op.slice(h, [{ axis: 1, start: k, end: k + 1 }]); // [G, 1, d]
      logits = datamuxClassify(c, keys, cls);
    } else {
      const first = op.slice(h, [{ axis: 1, start: 0, end: 1 }]); // [G, 1, d]
      logits = muxplmClassify(c, muxplmDemux(c, w('demux.keys'), first, s.demuxLayers)); // [G, N, C]
    }
    const flat = op.reshape(logits, [-1, s.numLabels]);
    g.output('logits', flat);
    if (o.training) {
      const labels = g.input('labels', 'int64', [flat.shape[0]]);
      losses.push({ loss: crossEntropy(flat, labels), weight: 1 - auxWeight });
    }
  }
  if (auxWeight > 0) {
    const pos = g.input('aux_pos', 'int64', ['scored']);
    const key = g.input('aux_key', 'int64', ['scored']);
    const labels = g.input('aux_labels', 'int64', ['scored']);
    const states = op.gather(op.reshape(h, [-1, d]), pos, 0); // [M, d]
    let logits: Value;
    if (s.method === 'datamux') {
      const keyStates = op.reshape(op.slice(h, [{ axis: 1, start: 0, end: k }]), [-1, d]); // [G*N, d]
      logits = datamuxRetrieve(c, words, op.gather(keyStates, key, 0), states);
    } else {
      logits = muxplmVocab(c, words, muxplmDemux(c, op.gather(w('demux.keys'), key, 0), states, s.demuxLayers));
    }
    const aux = crossEntropy(logits, labels);
    g.output('aux_loss', aux);
    g.output('aux_correct', correctCount(logits, labels));
    losses.push({ loss: aux, weight: auxWeight });
  }
  if (o.training) {
    const loss = losses.map((l) => op.mul(l.loss, l.weight)).reduce((a, x) => op.add(a, x));
    g.output('loss', loss);
    params.outputGradients(loss, p);
  }
  return g;
}

/**
 * Inference of a fresh whole-model multiplexer on `model` (heads random: speed does not depend on their values), every
 * weight a graph constant as in the adapters' benchmark graphs: what `revmux bench` times.
 */
export function fullMuxBenchGraph(
  model: Backbone,
  method: FullMuxMethod,
  n: number,
  seed: number,
): { graph: Graph; settings: FullMuxSettings } {
  const m = freshFullMux(bertEncoder(model, method, 'this model'), method, n, { seed });
  const o = { objective: 'task', training: false, seed, constantWeights: true } as const;
  return { graph: fullMuxGraph(m.bert, m.settings, allParams(m), m.vectors, o), settings: m.settings };
}

export interface GroupSequence {
  ids: readonly number[];
  /** Token types (DataMUX); zeros if absent. */
  typeIds?: readonly number[];
}

export interface GroupBatch {
  feeds: Record<string, HostTensor>;
  /** Padded length S of the mixed stream (prefix included). */
  seq: number;
  groups: number;
}

/**
 * [G, N, S] feeds for `seqs` taken N at a time (seqs.length must be a multiple of N), with DataMUX's
 * index prefix in front of each instance.
 */
export function groupFeeds(s: FullMuxSettings, seqs: readonly GroupSequence[], padId: number): GroupBatch {
  if (seqs.length % s.n !== 0) throw new Error(`groupFeeds: ${seqs.length} sequences do not fill groups of N = ${s.n}`);
  const k = prefixLength(s);
  const rows = seqs.length;
  // instance i of a group reads its index token at prefix position i and fillers elsewhere
  const prefixed = seqs.map((q, r) => ({
    ids: [...Array.from({ length: k }, (_, j) => (j === r % s.n ? s.indexIds[j] : s.fillerId)), ...q.ids],
    typeIds: [...new Array(k).fill(0), ...(q.typeIds ?? q.ids.map(() => 0))],
  }));
  const b = padRows(prefixed, padId);
  const shape = [rows / s.n, s.n, b.seq];
  const feeds: Record<string, HostTensor> = {
    input_ids: { data: b.inputIds, shape },
    attention_mask: { data: b.attentionMask, shape: [...shape] },
  };
  if (s.method === 'datamux') feeds.token_type_ids = { data: b.tokenTypeIds, shape: [...shape] };
  return { feeds, seq: b.seq, groups: rows / s.n };
}

/** Scored triples as aux_* feeds; `key` is the instance index i (converted for DataMUX here). */
function auxFeeds(
  s: FullMuxSettings,
  triples: { group: number; t: number; instance: number; label: number }[],
  S: number,
): Record<string, HostTensor> {
  const M = triples.length;
  const big = (f: (x: (typeof triples)[number]) => number) => ({
    data: BigInt64Array.from(triples, (x) => BigInt(f(x))),
    shape: [M],
  });
  return {
    aux_pos: big((x) => x.group * S + x.t),
    aux_key: big((x) => (s.method === 'datamux' ? x.group * s.n + x.instance : x.instance)),
    aux_labels: big((x) => x.label),
  };
}

/**
 * Token retrieval (spec §9.4): at every position t after the prefix, a random instance r_t whose
 * token at t is real (not padding) is asked for. Positions where r_t has only padding are skipped.
 */
export function retrievalFeeds(
  s: FullMuxSettings,
  seqs: readonly GroupSequence[],
  S: number,
  rng: Rng,
): Record<string, HostTensor> {
  const k = prefixLength(s);
  const triples: { group: number; t: number; instance: number; label: number }[] = [];
  for (let grp = 0; grp < seqs.length / s.n; grp++) {
    for (let t = k; t < S; t++) {
      const i = rng.int(s.n);
      const q = seqs[grp * s.n + i];
      if (t - k < q.ids.length) triples.push({ group: grp, t, instance: i, label: q.ids[t - k] });
    }
  }
  if (!triples.length) triples.push({ group: 0, t: k, instance: 0, label: seqs[0].ids[0] });
  return auxFeeds(s, triples, S);
}

/** Masked-LM targets of each instance (positions flat over rows, as maskSequences returns them) as aux feeds. */
export function mlmFeeds(
  s: FullMuxSettings,
  positions: BigInt64Array,
  labels: BigInt64Array,
  rowLength: number,
  S: number,
): Record<string, HostTensor> {
  const k = prefixLength(s);
  const triples = Array.from(positions, (p, m) => {
    const row = Math.floor(Number(p) / rowLength);
    return {
      group: Math.floor(row / s.n),
      t: k + (Number(p) % rowLength),
      instance: row % s.n,
      label: Number(labels[m]),
    };
  });
  return auxFeeds(s, triples, S);
}
