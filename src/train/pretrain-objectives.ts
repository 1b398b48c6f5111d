// What `revmux pretrain` optimises, behind one interface so the loop (packing, schedule, held-out
// evaluation, checkpoints, resume) is shared:
// - plain masked LM of a BertForMaskedLM (the default);
// - next-token prediction of a LLaMA-layout decoder;
// - span corruption of a T5 encoder-decoder (src/data/span-corruption.ts);
// - MUX-PLM (spec §10.2 stages 1-2, `--mux N`): groups of N packed sequences multiplexed with
//   Gaussian Hadamard vectors; first token retrieval ("priming") for a share of the budget, then
//   masked LM of every instance through the index_pos demux head. Held-out: multiplexed MLM.
import { Graph, type Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { type HostTensor, type Session, compile, float32 } from '../engine/runtime.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import { type MlmOptions, maskSequences } from '../data/mlm.js';
import type { Bert, BertContext } from '../models/bert.js';
import type { Llama } from '../models/llama.js';
import type { T5 } from '../models/t5.js';
import { type SpanCorruptionOptions, spanCorruptionFeeds } from '../data/span-corruption.js';
import { saveModel } from '../models/save.js';
import { correctCount, crossEntropy } from '../nn/losses.js';
import { type FullMuxSettings, gaussianHadamard, initHead } from '../baselines/datamux.js';
import { encoderOnly, saveFullMux } from '../baselines/full-model.js';
import { fullMuxGraph, groupFeeds, mlmFeeds, retrievalFeeds } from '../baselines/full-mux-graph.js';

/** What `revmux pretrain` optimises; `fraction` is the share of the budget used so far. */
export interface PretrainObjective {
  readonly params: ParamSet;
  /** The training graph (output `loss` and the gradients) for a step at this point of the budget. */
  trainGraph(dropoutSeed: number, fraction: number): Graph;
  /** Names the training graph at this point of the budget (MUX-PLM: retrieval, then masked LM). */
  phase(fraction: number): string;
  /** Feeds of one step on packed sequences. */
  feeds(seqs: number[][], step: number, fraction: number): Record<string, HostTensor>;
  /** Held-out loss and accuracy on fixed, pre-masked sequences. */
  heldOut(): Promise<{ loss: number; accuracy: number }>;
  save(dir: string): void;
}

/**
 * The held-out masks do not depend on a run's seed, so that a continuation with another seed (new
 * training masks) is scored on the same masked tokens. 42 + 99991: what every earlier run (seed 42) used.
 */
const HELD_OUT_MASK_SEED = 42 + 99991;

/** Loss and accuracy over fixed held-out batches, each weighted by the number of tokens it scores. */
async function heldOutMetrics(
  session: Session,
  params: ParamSet,
  batches: Record<string, HostTensor>[],
  names: { labels: string; loss: string; correct: string },
): Promise<{ loss: number; accuracy: number }> {
  let loss = 0;
  let correct = 0;
  let count = 0;
  for (const b of batches) {
    const r = await session.run({ ...params.feeds(), ...b }, [names.loss, names.correct]);
    const m = b[names.labels].shape[0];
    loss += float32(r[names.loss])[0] * m;
    correct += float32(r[names.correct])[0];
    count += m;
  }
  return { loss: loss / count, accuracy: correct / count };
}

/**
 * The graph of a token-prediction objective: ids and mask in, final states from `forward`, and the
 * vocabulary logits only at the scored flat positions `<prefix>_positions` (labels `<prefix>_labels`);
 * outputs loss and the count of correct predictions (+ gradients when training).
 */
function tokenPredictionGraph(
  name: string,
  params: ParamSet,
  gradients: boolean,
  prefix: string,
  forward: (g: Graph, p: Map<string, Value>, ids: Value, mask: Value) => { states: Value; logits: (x: Value) => Value },
): Graph {
  const g = new Graph(name);
  const p = params.declare(g);
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positions = g.input(`${prefix}_positions`, 'int64', ['scored']);
  const labels = g.input(`${prefix}_labels`, 'int64', ['scored']);
  const { states, logits: head } = forward(g, p, ids, mask);
  const logits = head(op.gather(op.reshape(states, [-1, states.shape[2] as number]), positions, 0));
  const loss = crossEntropy(logits, labels);
  g.output('correct', correctCount(logits, labels));
  g.output('loss', loss);
  if (gradients) params.outputGradients(loss, p);
  return g;
}

/** Masked LM of a BERT with its tied MLM head (BertForMaskedLM). */
export async function plainMlm(
  model: Bert,
  held: number[][],
  mlm: MlmOptions,
  o: { maskRate: number; seed: number; batchSize: number; dropout: boolean; tokenizerDir: string },
): Promise<PretrainObjective> {
  const params = new ParamSet();
  // shared arrays: saveModel writes what trains
  for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data);
  // Only the scored positions go through the vocabulary-sized decoder.
  const graph = (gradients: boolean, seed: number) =>
    tokenPredictionGraph(gradients ? 'mlm-train' : 'mlm-eval', params, gradients, 'mlm', (g, p, ids, mask) => {
      const b = model.bind(g, { training: gradients && o.dropout, seed, trainable: (n) => p.get(n) });
      const h = b.layers(b.embed({ inputIds: ids, attentionMask: mask }), b.context(mask), 0, model.numLayers);
      return { states: h, logits: (x) => b.mlmLogits(x) };
    });
  const heldRng = new Rng(HELD_OUT_MASK_SEED);
  const heldBatches: Record<string, HostTensor>[] = [];
  for (let i = 0; i < held.length; i += o.batchSize)
    heldBatches.push({ ...maskSequences(held.slice(i, i + o.batchSize), heldRng, mlm) });
  const evalSession = await compile(graph(false, o.seed));
  return {
    params,
    trainGraph: (dropoutSeed) => graph(true, dropoutSeed),
    phase: () => 'mlm',
    feeds: (seqs, step) => ({
      ...maskSequences(seqs, new Rng(o.seed * 1_000_003 + step), { ...mlm, probability: o.maskRate }),
    }),
    heldOut: () =>
      heldOutMetrics(evalSession, params, heldBatches, { labels: 'mlm_labels', loss: 'loss', correct: 'correct' }),
    save(dir) {
      saveModel(model, dir, { tokenizerFrom: o.tokenizerDir });
    },
  };
}

/** Next-token targets of packed sequences: flat positions b * S + t (t < S - 1) and the token at t + 1. */
export function nextTokenFeeds(seqs: readonly number[][]): Record<string, HostTensor> {
  const S = seqs[0].length;
  if (seqs.some((s) => s.length !== S)) throw new Error('next-token batches need sequences of one length (packed)');
  const ids = new BigInt64Array(seqs.length * S);
  const positions = new BigInt64Array(seqs.length * (S - 1));
  const labels = new BigInt64Array(seqs.length * (S - 1));
  seqs.forEach((seq, b) => {
    for (let t = 0; t < S; t++) ids[b * S + t] = BigInt(seq[t]);
    for (let t = 0; t < S - 1; t++) {
      positions[b * (S - 1) + t] = BigInt(b * S + t);
      labels[b * (S - 1) + t] = BigInt(seq[t + 1]);
    }
  });
  return {
    input_ids: { data: ids, shape: [seqs.length, S] },
    attention_mask: { data: new BigInt64Array(seqs.length * S).fill(1n), shape: [seqs.length, S] },
    lm_positions: { data: positions, shape: [positions.length] },
    lm_labels: { data: labels, shape: [labels.length] },
  };
}

/** Next-token prediction of a LLaMA-layout decoder (LlamaForCausalLM): every token is a target. */
export async function causalLm(
  model: Llama,
  held: number[][],
  o: { batchSize: number; tokenizerDir: string },
): Promise<PretrainObjective> {
  const params = new ParamSet();
  for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data);
  const graph = (gradients: boolean) =>
    tokenPredictionGraph(gradients ? 'clm-train' : 'clm-eval', params, gradients, 'lm', (g, p, ids, mask) => {
      const b = model.bind(g, { trainable: (n) => p.get(n) });
      const h = b.finalNorm(
        b.layers(b.embed({ inputIds: ids, attentionMask: mask }), b.context(mask), 0, model.numLayers),
      );
      return { states: h, logits: (x) => b.lmLogits(x) };
    });
  const heldBatches: Record<string, HostTensor>[] = [];
  for (let i = 0; i < held.length; i += o.batchSize) heldBatches.push(nextTokenFeeds(held.slice(i, i + o.batchSize)));
  const evalSession = await compile(graph(false));
  return {
    params,
    trainGraph: () => graph(true), // LLaMA has no dropout
    phase: () => 'next-token',
    feeds: (seqs) => nextTokenFeeds(seqs),
    heldOut: () =>
      heldOutMetrics(evalSession, params, heldBatches, { labels: 'lm_labels', loss: 'loss', correct: 'correct' }),
    save(dir) {
      saveModel(model, dir, { tokenizerFrom: o.tokenizerDir });
    },
  };
}

/**
 * T5's span corruption (T5ForConditionalGeneration): the encoder reads a sequence with spans cut out, the
 * decoder writes each span back after its sentinel; every decoder position is a target. The tokenizer is
 * saved with the model, since it carries the sentinels the run added.
 */
export async function spanCorruption(
  model: T5,
  held: number[][],
  spans: Omit<SpanCorruptionOptions, 'noiseDensity'>,
  o: { noiseDensity: number; seed: number; batchSize: number; dropout: boolean; tokenizer: TextTokenizer },
): Promise<PretrainObjective> {
  const params = new ParamSet();
  for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data);
  const graph = (gradients: boolean, seed: number) =>
    tokenPredictionGraph(gradients ? 't5-span-train' : 't5-span-eval', params, gradients, 'lm', (g, p, ids, mask) => {
      const b = model.bind(g, { training: gradients && o.dropout, seed, trainable: (n) => p.get(n) });
      const decoderIds = g.input('decoder_input_ids', 'int64', ['batch', 'target']);
      const encoded = b.encoderFinal(
        b.layers(b.embed({ inputIds: ids, attentionMask: mask }), b.context(mask), 0, model.numLayers),
      );
      return { states: b.decode(decoderIds, encoded, mask), logits: (x) => b.lmLogits(b.headInput(x)) };
    });
  // held out at T5's 15% whatever the training density, as masked LM is scored at 15%
  const heldRng = new Rng(HELD_OUT_MASK_SEED);
  const heldBatches: Record<string, HostTensor>[] = [];
  for (let i = 0; i < held.length; i += o.batchSize)
    heldBatches.push(spanCorruptionFeeds(held.slice(i, i + o.batchSize), heldRng, { ...spans, noiseDensity: 0.15 }));
  const evalSession = await compile(graph(false, o.seed));
  return {
    params,
    trainGraph: (dropoutSeed) => graph(true, dropoutSeed),
    phase: () => 'span-corruption',
    feeds: (seqs, step) =>
      spanCorruptionFeeds(seqs, new Rng(o.seed * 1_000_003 + step), { ...spans, noiseDensity: o.noiseDensity }),
    heldOut: () =>
      heldOutMetrics(evalSession, params, heldBatches, { labels: 'lm_labels', loss: 'loss', correct: 'correct' }),
    save(dir) {
      saveModel(model, dir);
      o.tokenizer.save(dir);
    },
  };
}

/** A BERT layer context whose attention also hides every later position: [B, 1, S, S] bias. */
export function withCausalMask(ctx: BertContext, ids: Value): BertContext {
  const g = ids.graph;
  const idx = op.range(g, 0, op.dimSize(ids, 1), ids.shape[1]);
  const future = op.greater(op.unsqueeze(idx, [0]), op.unsqueeze(idx, [1])); // [S, S]: key after query
  return {
    ...ctx,
    maskBias: op.add(ctx.maskBias, op.where(future, g.scalar(-1e9, 'float32'), g.scalar(0, 'float32'))),
  };
}

/**
 * Next-token prediction with a BERT (`--objective causal`): the encoder's own layers under a causal mask,
 * answering through its tied MLM head, so every token is a target. A warm start for masked LM: the
 * saved folder is a BertForMaskedLM that `revmux pretrain --model` continues with masked LM.
 */
export async function bertCausalLm(
  model: Bert,
  held: number[][],
  o: { batchSize: number; dropout: boolean; tokenizerDir: string },
): Promise<PretrainObjective> {
  const params = new ParamSet();
  for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data);
  const graph = (gradients: boolean, seed: number) =>
    tokenPredictionGraph(gradients ? 'bert-clm-train' : 'bert-clm-eval', params, gradients, 'lm', (g, p, ids, mask) => {
      const b = model.bind(g, { training: gradients && o.dropout, seed, trainable: (n) => p.get(n) });
      const h = b.layers(
        b.embed({ inputIds: ids, attentionMask: mask }),
        withCausalMask(b.context(mask), ids),
        0,
        model.numLayers,
      );
      return { states: h, logits: (x) => b.mlmLogits(x) };
    });
  const heldBatches: Record<string, HostTensor>[] = [];
  for (let i = 0; i < held.length; i += o.batchSize) heldBatches.push(nextTokenFeeds(held.slice(i, i + o.batchSize)));
  const evalSession = await compile(graph(false, 0));
  return {
    params,
    trainGraph: (dropoutSeed) => graph(true, dropoutSeed),
    phase: () => 'next-token',
    feeds: (seqs) => nextTokenFeeds(seqs),
    heldOut: () =>
      heldOutMetrics(evalSession, params, heldBatches, { labels: 'lm_labels', loss: 'loss', correct: 'correct' }),
    save(dir) {
      saveModel(model, dir, { tokenizerFrom: o.tokenizerDir });
    },
  };
}

export interface MuxPretrainOptions {
  n: number;
  /** Share of the budget spent on token retrieval before masked LM (spec: a separate priming stage). */
  priming: number;
  nu: number;
  seed: number;
  batchSize: number;
  dropout: boolean;
  tokenizerDir: string;
  initFrom: string;
}

/** MUX-PLM stages 1-2 on a BERT encoder (its own MLM head, if any, is dropped: the demux head decodes). */
export async function muxPlmPretraining(
  model: Bert,
  tok: TextTokenizer,
  held: number[][],
  mlm: MlmOptions,
  o: MuxPretrainOptions,
): Promise<PretrainObjective> {
  if (o.batchSize % o.n !== 0) throw new Error(`--batch-size ${o.batchSize} is not a multiple of --mux ${o.n}`);
  const bert = encoderOnly(model);
  const d = bert.hiddenSize;
  const settings: FullMuxSettings = {
    method: 'muxplm',
    n: o.n,
    nu: o.nu,
    demuxLayers: 2,
    numLabels: 0,
    fillerId: -1,
    indexIds: [],
  };
  const head = initHead(settings, d, bert.config.vocab_size, bert.config.initializer_range, o.seed + 5);
  const vectors = gaussianHadamard(o.n, d, o.nu, o.seed + 17);
  const params = new ParamSet();
  for (const [n, w] of bert.weights.entries()) params.add(n, w.shape, w.data);
  for (const p of head.list()) params.add(p.name, p.shape, p.data);
  const heldSeqs = held.slice(0, held.length - (held.length % o.n));
  if (!heldSeqs.length) throw new Error(`pretrain --mux ${o.n}: fewer than ${o.n} held-out sequences`);
  const heldRng = new Rng(HELD_OUT_MASK_SEED);
  const heldBatches: Record<string, HostTensor>[] = [];
  for (let i = 0; i < heldSeqs.length; i += o.batchSize)
    heldBatches.push(maskedGroupFeeds(settings, heldSeqs.slice(i, i + o.batchSize), heldRng, mlm, tok.padId));
  const evalSession = await compile(
    fullMuxGraph(bert, settings, params, vectors, { objective: 'mlm', training: false, seed: o.seed }),
  );
  const phase = (fraction: number) => (fraction < o.priming ? 'retrieval' : 'mlm');
  return {
    params,
    phase,
    trainGraph: (dropoutSeed, fraction) =>
      fullMuxGraph(bert, settings, params, vectors, {
        objective: phase(fraction),
        training: true,
        dropout: o.dropout,
        seed: dropoutSeed,
      }),
    feeds(seqs, step, fraction) {
      const rng = new Rng(o.seed * 1_000_003 + step);
      if (phase(fraction) === 'mlm') return maskedGroupFeeds(settings, seqs, rng, mlm, tok.padId);
      const rows = seqs.map((ids) => ({ ids }));
      const batch = groupFeeds(settings, rows, tok.padId);
      return { ...batch.feeds, ...retrievalFeeds(settings, rows, batch.seq, rng) };
    },
    heldOut: () =>
      heldOutMetrics(evalSession, params, heldBatches, {
        labels: 'aux_labels',
        loss: 'aux_loss',
        correct: 'aux_correct',
      }),
    save(dir) {
      saveFullMux(
        dir,
        { bert, settings, head, vectors },
        {
          stage: 'pretrained',
          task: null,
          label_words: null,
          init_from: o.initFrom,
          training: { priming: o.priming, batch_size: o.batchSize },
        },
        o.tokenizerDir,
      );
    },
  };
}

/** Each instance masked on its own (80/10/10), then grouped; targets are every instance's masked tokens. */
function maskedGroupFeeds(
  s: FullMuxSettings,
  seqs: number[][],
  rng: Rng,
  mlm: MlmOptions,
  padId: number,
): Record<string, HostTensor> {
  const masked = maskSequences(seqs, rng, mlm);
  const S = masked.input_ids.shape[1];
  const rows = Array.from({ length: seqs.length }, (_, r) => ({
    ids: Array.from(masked.input_ids.data.subarray(r * S, r * S + seqs[r].length) as BigInt64Array, Number),
  }));
  const batch = groupFeeds(s, rows, padId);
  return {
    ...batch.feeds,
    ...mlmFeeds(s, masked.mlm_positions.data as BigInt64Array, masked.mlm_labels.data as BigInt64Array, S, batch.seq),
  };
}
