// The three graphs of multiplexed inference and training:
//   prefill — embeddings + layers [0, l) per query                  (frozen, run once per example)
//   siso    — layers [l, L) + head per query: logits and teacher     (frozen, run once per example)
//   mux     — adapters + layers [l, L) on mixed rows + demux + head  (adapters train)
import { Graph, type Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import type { ParamSet } from '../engine/params.js';
import type { HostTensor } from '../engine/runtime.js';
import type { Backbone, ModelInputs } from '../models/backbone.js';
import { weightedCrossEntropy } from '../nn/losses.js';
import type { MuxHead } from './heads.js';
import { infoNce, mappingLoss } from './losses.js';
import type { MuxSpec } from './spec.js';
import { VARIANTS } from './variants.js';

/** input_ids, attention_mask (+ token_type_ids for BERT) -> h = residual stream after layer l, [B, S, d]. */
export function prefillGraph(model: Backbone, l: number): Graph {
  const g = new Graph(`prefill-l${l}`);
  const inputs: ModelInputs = {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
  };
  if (model.usesTokenTypes) inputs.tokenTypeIds = g.input('token_type_ids', 'int64', ['batch', 'seq']);
  const b = model.bind(g);
  g.output('h', b.layers(b.embed(inputs), b.context(inputs.attentionMask), 0, l));
  return g;
}

/** h [B, S, d] after layer l -> SISO label logits [B, 2] and teacher vectors [B, d]. */
export function sisoGraph(model: Backbone, head: MuxHead, l: number): Graph {
  const g = new Graph(`siso-l${l}`);
  const h = g.input('h', 'float32', ['batch', 'seq', model.hiddenSize], { trainable: false });
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const extra = head.answerInputs(mask);
  const b = model.bind(g);
  const { logits, teacher } = head.siso(b, h, mask, l, extra);
  g.output('logits', logits);
  g.output('teacher', teacher);
  return g;
}

export interface MuxGraphOptions {
  /** Append the training loss and the adapter gradients. */
  withLoss: boolean;
  /** Dropout inside the adapters (training). */
  adapterDropout: boolean;
  /** Dropout in the frozen backbone layers [l, L) (the original code keeps it on while training, spec A18). */
  backboneDropout: boolean;
  seed: number;
  /** InfoNCE weight (spec: 0.25 BERT RevMUX/ORA, 0.5 otherwise). */
  lambda: number;
  /** Mapping-loss weight (spec: 1; 0 disables). */
  mu: number;
  nceScale?: number;
}

interface MuxCore {
  logits: Value;
  /** Per-instance vectors before mixing [G, N, S, w] (for the mapping loss). */
  z: Value;
  /** InfoNCE students [G*N, d]. */
  student: Value;
}

/** Adapters + frozen layers [l, L) + demux + head on grouped prefilled states. */
function muxCore(
  model: Backbone,
  head: MuxHead,
  spec: MuxSpec,
  p: (name: string) => Value,
  h: Value,
  mask: Value,
  valid: Value,
  extra: Record<string, Value>,
  o: MuxGraphOptions,
): MuxCore {
  const { n, d, l } = spec;
  const g = h.graph;
  const b = model.bind(g, { training: o.backboneDropout, seed: o.seed });
  let dropCount = 0;
  const drop = (x: Value) =>
    o.adapterDropout && spec.dropout > 0
      ? op.dropout(x, spec.dropout, true, o.seed * 7919 + 1 + dropCount++).output
      : x;

  // Per-instance projection, zeroed wherever the instance has no token: dummy slots entirely
  // (spec §3.3) and a shorter instance's padded tail, so what the padding positions held before
  // (zeros in the training cache, pad-token states in fused inference) never matters.
  const tokenMask = op.mul(op.unsqueeze(op.cast(mask, 'float32'), [3]), op.unsqueeze(valid, [2, 3]));
  const variant = VARIANTS[spec.variant];
  const z = op.mul(variant.project(p, h), tokenMask); // [G, N, S, w]
  const slots = n === 1 ? [op.squeeze(z, [1])] : op.split(z, new Array(n).fill(1), 1).map((s) => op.squeeze(s, [1]));
  const mixed = variant.mix(p, slots, drop); // [G, S, d]
  const maskMix = op.cast(op.reduceMax(op.cast(mask, 'float32'), [1], false), 'int64'); // OR over slots
  const ans = head.mixed(b, mixed, maskMix, l, extra);

  /** Demultiplex answer vectors ([G, d] or [G, N, d] per-instance) into [G, N, d] per slot. */
  const demux = (v: Value): Value => variant.demux(p, v, n, head.perInstance, drop);
  const y = demux(ans.answer);
  const logits = op.reshape(head.logits(b, y), [-1, 2]);
  const student = op.reshape(ans.nce ? demux(ans.nce) : y, [-1, d]);
  return { logits, z, student };
}

/**
 * Inputs: h [G, N, S, d] (prefilled states of the grouped instances, any rows for dummies),
 * mask [G, N, S] int64, valid [G, N] float (0 = dummy slot), the head's extra inputs, and the
 * adapter parameters. Output: logits [G*N, 2] (row g*N + i = slot i of group g).
 * With withLoss: also labels [G*N], teacher [G*N, d]; outputs loss, ce, nce, map, grad.<param>.
 */
export function muxGraph(model: Backbone, head: MuxHead, spec: MuxSpec, params: ParamSet, o: MuxGraphOptions): Graph {
  const { n, d, l } = spec;
  const g = new Graph(`mux-${spec.variant}-n${n}-l${l}`);
  const pv = params.declare(g);
  const p = (name: string) => {
    const v = pv.get(name);
    if (!v) throw new Error(`adapter parameter '${name}' is missing`);
    return v;
  };
  const h = g.input('h', 'float32', ['groups', n, 'seq', d], { trainable: false });
  const mask = g.input('mask', 'int64', ['groups', n, 'seq']);
  const valid = g.input('valid', 'float32', ['groups', n], { trainable: false });
  const extra = head.answerInputs(mask);
  const { logits, z, student } = muxCore(model, head, spec, p, h, mask, valid, extra, o);
  g.output('logits', logits);
  if (!o.withLoss) return g;

  const rows = logits.shape[0]; // N*groups
  const labels = g.input('labels', 'int64', [rows]);
  const teacher = g.input('teacher', 'float32', [rows, d], { trainable: false });
  const validFlat = op.reshape(valid, [-1]);
  const ce = weightedCrossEntropy(logits, labels, validFlat);
  const nce = infoNce(student, teacher, validFlat, o.nceScale ?? 20);
  const map = o.mu > 0 && n > 1 ? mappingLoss(z, op.cast(mask, 'float32')) : g.scalar(0, 'float32');
  let loss = op.add(ce, op.mul(nce, o.lambda));
  if (o.mu > 0 && n > 1) loss = op.add(loss, op.mul(map, o.mu));
  g.output('loss', loss);
  g.output('ce', ce);
  g.output('nce', nce);
  g.output('map', op.identity(map));
  params.outputGradients(loss, pv);
  return g;
}

/** A part's feed or output name in the serving graph: `n${N}.` before a multiplexed part's names, none for SISO. */
export const partName = (n: number, name: string) => (n === 1 ? name : `n${n}.${name}`);

/**
 * Inference from token ids to label logits [G, N, 2]: input_ids / attention_mask (+ token_type_ids for BERT) as
 * [G, N, S], right-padded; prefill [0, l) per instance, then the multiplexed rest. Adapter weights are constants
 * here (serving, benchmarks). A slot whose mask is all zero is a dummy.
 */
function addMuxPart(g: Graph, model: Backbone, head: MuxHead, spec: MuxSpec, params: ParamSet, alone: boolean): void {
  const { n, l } = spec;
  const name = (x: string) => (alone ? x : partName(n, x));
  const consts = new Map(
    params
      .list()
      .map((pr) => [pr.name, g.initializer(pr.data, pr.shape, 'float32', { prefix: name(`adapter.${pr.name}`) })]),
  );
  const dims = [name('groups'), n, name('seq')]; // each part's own symbolic sizes: the others are fed empty
  const ids = g.input(name('input_ids'), 'int64', dims);
  const mask = g.input(name('attention_mask'), 'int64', dims);
  const flat = (x: Value) => op.reshape(x, [-1, x.shape[2]]);
  const inputs: ModelInputs = { inputIds: flat(ids), attentionMask: flat(mask) };
  if (model.usesTokenTypes) inputs.tokenTypeIds = flat(g.input(name('token_type_ids'), 'int64', dims));
  const extra = head.answerInputs(mask);
  const b = model.bind(g);
  const hFlat = b.layers(b.embed(inputs), b.context(inputs.attentionMask), 0, l); // [G*N, S, d]
  const h = op.reshape(hFlat, ids.shape.concat([model.hiddenSize]) as (string | number)[], [ids]);
  const valid = op.reduceMax(op.cast(mask, 'float32'), [2], false); // [G, N]
  const { logits } = muxCore(model, head, spec, (name) => consts.get(name)!, h, mask, valid, extra, {
    withLoss: false,
    adapterDropout: false,
    backboneDropout: false,
    seed: 0,
    lambda: 0,
    mu: 0,
  });
  // [G, N, 2]: instance i of group g at [g, i]
  g.output(name('logits'), op.reshape(logits, [ids.shape[0], n, 2], [ids]));
}

/** SISO inference: token ids [B, S] -> label logits [B, 2]. */
function addSisoPart(g: Graph, model: Backbone, head: MuxHead): void {
  const inputs: ModelInputs = {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
  };
  if (model.usesTokenTypes) inputs.tokenTypeIds = g.input('token_type_ids', 'int64', ['batch', 'seq']);
  const extra = head.answerInputs(inputs.attentionMask);
  const b = model.bind(g);
  const h = b.layers(b.embed(inputs), b.context(inputs.attentionMask), 0, 0);
  g.output('logits', head.siso(b, h, inputs.attentionMask, 0, extra).logits);
}

/** Multiplexed inference in a session of its own (benchmarks, export). */
export function fusedMuxGraph(model: Backbone, head: MuxHead, spec: MuxSpec, params: ParamSet): Graph {
  const g = new Graph(`mux-infer-${spec.variant}-n${spec.n}-l${spec.l}`);
  addMuxPart(g, model, head, spec, params, true);
  return g;
}

/** SISO inference in a session of its own. */
export function fusedSisoGraph(model: Backbone, head: MuxHead): Graph {
  const g = new Graph('siso-infer');
  addSisoPart(g, model, head);
  return g;
}

/**
 * SISO and every adapter's N in one graph, so one session holds one copy of the frozen weights (each part binds
 * the backbone to the same graph, and a graph binds each weight once). Part N reads `n${N}.input_ids` ... and
 * writes `n${N}.logits`; SISO keeps the plain names. A run feeds the other parts empty batches, which cost
 * almost nothing: onnxruntime runs every node of a graph whatever outputs are asked for.
 */
export function fusedServingGraph(
  model: Backbone,
  head: MuxHead,
  adapters: readonly { spec: MuxSpec; params: ParamSet }[],
): Graph {
  const g = new Graph(`serve-n${[1, ...adapters.map((a) => a.spec.n)].join('-')}`);
  addSisoPart(g, model, head);
  for (const a of adapters) addMuxPart(g, model, head, a.spec, a.params, false);
  return g;
}

/**
 * Feeds of the serving graph for a batch of part N: its own token feeds (as a standalone graph of that part
 * takes them) under the part's names, and zero rows for every other part of `parts` (the Ns it holds, 1 = SISO).
 */
export function servingFeeds(
  own: Record<string, HostTensor>,
  n: number,
  parts: readonly number[],
): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const m of parts.filter((m) => m !== n))
    for (const name of Object.keys(own))
      feeds[partName(m, name)] = { data: new BigInt64Array(0), shape: m === 1 ? [0, 1] : [0, m, 1] };
  for (const [name, t] of Object.entries(own)) feeds[partName(n, name)] = t;
  return feeds;
}
