// Masked-LM pretraining of a BERT-style encoder from a text corpus (`revmux pretrain`): packed
// 128-token sequences, 15% masking (80/10/10), tied decoder with bias, AdamW with warm-up and
// linear decay over a step or time budget, held-out MLM loss/accuracy, atomic checkpoints with the
// corpus position, and exact resume. Writes a Hugging Face BertForMaskedLM folder.
//
// Dropout defaults to 0: short pretraining runs learn faster without it (Geiping & Goldstein,
// "Cramming", 2022), and it makes resumed runs bit-identical.
import fs from 'node:fs';
import path from 'node:path';
import { grad } from '../engine/autodiff.js';
import { Graph } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { AdamW, clipGlobalNorm } from '../engine/optim.js';
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { type Session, compile, float32 } from '../engine/runtime.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { TextTokenizer } from '../io/tokenizer.js';
import { type PackerState, packSequences } from '../data/corpus.js';
import { type MlmBatch, type MlmOptions, maskSequences } from '../data/mlm.js';
import { Bert } from '../models/bert.js';
import { createModel } from '../models/init.js';
import { bertPreset } from '../models/presets.js';
import { saveModel } from '../models/save.js';
import { correctCount, crossEntropy } from '../nn/losses.js';
import { CheckpointDir, type LoopState, startOrResume } from './checkpoint.js';
import { Progress } from './progress.js';

export interface PretrainOptions {
  corpus: string;
  out: string;
  /** tokenizer.json folder (bert-base-uncased by default at the CLI). */
  tokenizer: string;
  preset?: string; // 'mini'
  layers?: number;
  initConfig?: Record<string, unknown>;
  seqLen?: number; // 128
  batchSize?: number; // 64 sequences
  lr?: number; // 1e-3
  warmupFraction?: number; // 0.05
  weightDecay?: number; // 0.01
  maxGradNorm?: number; // 1
  /** Stop after this many steps... */
  maxSteps?: number;
  /** ...or this many minutes of training, whichever comes first; the schedule follows the budget. */
  minutes?: number;
  dropout?: number; // 0
  heldOutSequences?: number; // 256
  evalEvery?: number; // 200 steps (also the checkpoint interval)
  seed?: number; // 42
  fresh?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Stop right after the checkpoint at this step, as an interruption would (tests of resume). */
  abortAfterSteps?: number;
}

export interface PretrainResult {
  steps: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  heldOut: { loss: number; accuracy: number };
  history: Record<string, number>[];
  parameters: number;
}

interface PretrainMeta extends Record<string, unknown> {
  elapsed: number;
  tokens: number;
  packer: PackerState;
  epoch: number;
}

function mlmGraph(model: Bert, params: ParamSet, o: { gradients: boolean; dropout: boolean; seed: number }): Graph {
  const g = new Graph(o.gradients ? 'mlm-train' : 'mlm-eval');
  const p = params.declare(g);
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positions = g.input('mlm_positions', 'int64', ['masked']);
  const labels = g.input('mlm_labels', 'int64', ['masked']);
  const b = model.bind(g, { training: o.dropout, seed: o.seed, trainable: (n) => p.get(n) });
  const h = b.layers(b.embed({ inputIds: ids, attentionMask: mask }), b.context(mask), 0, model.numLayers);
  // Only the scored positions go through the vocabulary-sized decoder.
  const logits = b.mlmLogits(op.gather(op.reshape(h, [-1, model.hiddenSize]), positions, 0));
  const loss = crossEntropy(logits, labels);
  g.output('loss', loss);
  g.output('correct', correctCount(logits, labels));
  if (o.gradients) {
    const names = params.names();
    grad(loss, names.map((n) => p.get(n)!)).forEach((d, i) => g.output(`grad.${names[i]}`, d));
  }
  return g;
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? ((s: string) => console.error(s));
  const seed = o.seed ?? 42;
  const seqLen = o.seqLen ?? 128;
  const batchSize = o.batchSize ?? 64;
  const peak = o.lr ?? 1e-3;
  const warm = o.warmupFraction ?? 0.05;
  const evalEvery = o.evalEvery ?? 200;
  const dropout = o.dropout ?? 0;
  if (!o.maxSteps && !o.minutes) throw new Error('pretrain: give a budget, --max-steps and/or --minutes');
  const tok = TextTokenizer.load(o.tokenizer);
  const config = bertPreset(o.preset ?? 'mini', { vocab_size: tok.vocabSize, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout, max_position_embeddings: Math.max(512, seqLen), ...(o.layers ? { num_hidden_layers: o.layers } : {}), ...o.initConfig });
  const model = createModel(config, { seed, heads: (n) => n.startsWith('cls.') }) as Bert;
  const params = new ParamSet();
  for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data); // shared arrays: saveModel writes what trains
  const optimizer = new AdamW({ weightDecay: o.weightDecay ?? 0.01, eps: 1e-6, noDecay: (n) => n.endsWith('.bias') || n.includes('LayerNorm') });

  const special = new Set(['[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]'].map((t) => tok.tokenToId(t)).filter((x): x is number => x !== undefined));
  const mlm: MlmOptions = { maskId: tok.tokenToId('[MASK]') ?? 103, vocabSize: config.vocab_size, specialIds: special, firstRandomId: 999 };

  // Held-out: the first sequences of the corpus, masked once with a fixed seed; training starts after them.
  const heldCount = o.heldOutSequences ?? 256;
  const start: PackerState = { lineNo: 0, pending: [] };
  const held: number[][] = [];
  for await (const s of packSequences(o.corpus, tok, seqLen, start)) {
    held.push(s.ids);
    if (held.length >= heldCount) break;
  }
  const heldRng = new Rng(seed + 99991);
  const heldBatches: MlmBatch[] = [];
  for (let i = 0; i < held.length; i += batchSize) heldBatches.push(maskSequences(held.slice(i, i + batchSize), heldRng, mlm));
  const trainStart: PackerState = { lineNo: start.lineNo, pending: [...start.pending] };

  const runMeta = { corpus: path.resolve(o.corpus), preset: o.preset ?? 'mini', layers: config.num_hidden_layers, hidden: config.hidden_size, seqLen, batchSize, lr: peak, warm, maxSteps: o.maxSteps ?? null, minutes: o.minutes ?? null, dropout, seed };
  const ckpt = new CheckpointDir(o.out);
  // the loop's position (time used, tokens, corpus position) lives in meta next to the settings
  const settings = (m: Record<string, unknown>) => Object.fromEntries(Object.keys(runMeta).map((k) => [k, m[k]]));
  // packer: a copy, since the loop advances it in place and each new pass restarts from trainStart
  const state: LoopState = startOrResume(ckpt, params, optimizer, { step: 0, epoch: 0, batchInEpoch: 0, best: null, history: [], meta: { ...runMeta, elapsed: 0, tokens: 0, packer: { lineNo: trainStart.lineNo, pending: [...trainStart.pending] }, epoch: 0 } }, { fresh: o.fresh, log, settings });
  const meta = state.meta as PretrainMeta;
  log(`pretrain ${runMeta.preset} L${config.num_hidden_layers} H${config.hidden_size}: ${params.size().toLocaleString('en-US')} parameters, ${heldCount} held-out sequences, batch ${batchSize}x${seqLen}`);

  const evalSession = await compile(mlmGraph(model, params, { gradients: false, dropout: false, seed }));
  const heldOut = async () => {
    let loss = 0;
    let correct = 0;
    let count = 0;
    for (const b of heldBatches) {
      const r = await evalSession.run({ ...params.feeds(), ...b });
      const m = b.mlm_labels.shape[0];
      loss += float32(r.loss)[0] * m;
      correct += float32(r.correct)[0];
      count += m;
    }
    return { loss: loss / count, accuracy: correct / count };
  };

  const budgetFraction = () => Math.max(o.maxSteps ? state.step / o.maxSteps : 0, o.minutes ? meta.elapsed / (o.minutes * 60) : 0);
  const lrAt = (f: number) => (f < warm ? (peak * f) / warm : peak * Math.max(0, (1 - f) / (1 - warm)));
  const progress = new Progress('pretrain', o.maxSteps ?? 0, o.quiet);
  let session: Session | null = null;
  let lossSum = 0;
  let seen = 0;
  let segmentStart = Date.now();
  let segmentTokens = 0;
  const t0 = Date.now();
  let last = { loss: NaN, accuracy: NaN };

  const checkpoint = async () => {
    last = await heldOut();
    state.history.push({ step: state.step, tokens: meta.tokens, elapsed_s: Math.round(meta.elapsed), train_loss: lossSum / Math.max(1, seen), heldout_loss: last.loss, heldout_acc: last.accuracy, lr: lrAt(budgetFraction()) });
    log(`step ${state.step}: ${meta.tokens.toLocaleString('en-US')} tokens, train loss ${(lossSum / Math.max(1, seen)).toFixed(4)}, held-out loss ${last.loss.toFixed(4)}, held-out accuracy ${last.accuracy.toFixed(4)}`);
    saveModel(model, o.out, { tokenizerFrom: o.tokenizer });
    ckpt.save(params, optimizer, state);
    session = null; // a new dropout segment after every checkpoint
    lossSum = seen = 0;
  };

  let buffer: number[][] = [];
  outer: while (budgetFraction() < 1) {
    let produced = 0;
    for await (const s of packSequences(o.corpus, tok, seqLen, meta.packer)) {
      produced++;
      buffer.push(s.ids);
      if (buffer.length < batchSize) continue;
      const batch = maskSequences(buffer, new Rng(seed * 1_000_003 + state.step), mlm);
      buffer = [];
      if (!session) session = await compile(mlmGraph(model, params, { gradients: true, dropout: dropout > 0, seed: seed * 7919 + state.step }));
      const tStep = Date.now();
      const r = await session.run({ ...params.feeds(), ...batch });
      const grads = new Map(params.names().map((n) => [n, float32(r[`grad.${n}`])]));
      clipGlobalNorm(grads.values(), o.maxGradNorm ?? 1);
      optimizer.step(params, grads, lrAt(budgetFraction()));
      state.step++;
      meta.elapsed += (Date.now() - tStep) / 1000;
      meta.tokens += batchSize * seqLen;
      segmentTokens += batchSize * seqLen;
      lossSum += float32(r.loss)[0];
      seen++;
      progress.update(state.step, { loss: lossSum / seen, 'tok/s': (segmentTokens * 1000) / (Date.now() - segmentStart), budget: `${(100 * budgetFraction()).toFixed(1)}%` });
      if (state.step % evalEvery === 0) {
        await checkpoint();
        segmentStart = Date.now();
        segmentTokens = 0;
        if (o.abortAfterSteps !== undefined && state.step >= o.abortAfterSteps) return { steps: state.step, tokens: meta.tokens, seconds: meta.elapsed, tokensPerSecond: 0, heldOut: last, history: state.history, parameters: params.size() };
      }
      if (budgetFraction() >= 1) break outer;
    }
    // corpus exhausted: another pass, after the held-out part
    if (produced === 0 && meta.packer.lineNo === trainStart.lineNo) throw new Error(`${o.corpus}: no training sequences after the ${heldCount} held-out ones; the corpus is too small for --seq-len ${seqLen} (or lower --held-out)`);
    meta.epoch++;
    meta.packer = { lineNo: trainStart.lineNo, pending: [...trainStart.pending] };
    log(`corpus pass ${meta.epoch} done, starting over`);
  }
  progress.stop();
  if (state.step % evalEvery !== 0) await checkpoint();
  const result: PretrainResult = { steps: state.step, tokens: meta.tokens, seconds: meta.elapsed, tokensPerSecond: meta.tokens / Math.max(1e-9, meta.elapsed), heldOut: last, history: state.history, parameters: params.size() };
  fs.mkdirSync(o.out, { recursive: true });
  writeTextAtomic(path.join(o.out, 'pretrain.json'), JSON.stringify({ ...result, wall_seconds: (Date.now() - t0) / 1000, options: runMeta }, null, 2) + '\n');
  return result;
}
