// Masked-LM pretraining of a BERT-style encoder from a text corpus (`revmux pretrain`): packed
// 128-token sequences, 15% masking (80/10/10), tied decoder with bias, AdamW with warm-up and
// linear decay over a step or time budget, held-out MLM loss/accuracy, atomic checkpoints with the
// corpus position, and exact resume. Writes a Hugging Face BertForMaskedLM folder; with --mux N, MUX-PLM
// pretraining under multiplexing instead (pretrain-objectives.ts).
//
// Dropout defaults to 0: short pretraining runs learn faster without it (Geiping & Goldstein,
// "Cramming", 2022), and it makes resumed runs bit-identical.
import fs from 'node:fs';
import path from 'node:path';
import { AdamW } from '../engine/optim.js';
import { float32 } from '../engine/runtime.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { TextTokenizer } from '../io/tokenizer.js';
import { type PackerState, packSequences } from '../data/corpus.js';
import type { MlmOptions } from '../data/mlm.js';
import type { Pretraining } from '../models/architecture.js';
import type { Backbone } from '../models/backbone.js';
import { Bert } from '../models/bert.js';
import { createModel } from '../models/init.js';
import { Llama } from '../models/llama.js';
import { FRESH_MODEL_TYPES, presetConfig, sizeOf } from '../models/presets.js';
import {
  ARCHITECTURES,
  type ModelType,
  SUPPORTED_MODEL_TYPES,
  architectureOf,
  dims,
  isSupported,
} from '../models/registry.js';
import { loadModel } from '../models/load.js';
import { prepareOutDir, resumableRun } from './checkpoint.js';
import { bertCausalLm, causalLm, muxPlmPretraining, plainMlm, spanCorruption } from './pretrain-objectives.js';
import { MEAN_SPAN_LENGTH, SENTINELS } from '../data/span-corruption.js';
import { T5 } from '../models/t5.js';
import { readConfig } from '../models/config.js';
import { runLoop } from './loop.js';
import { neighbourAttentionInit } from './neighbour-attention-init.js';
import { t5NeighbourInit } from './t5-neighbour-init.js';

export interface PretrainOptions {
  corpus: string;
  out: string;
  /** tokenizer.json folder (bert-base-uncased by default at the CLI). */
  tokenizer: string;
  preset?: string; // 'mini'
  /** A family with `pretraining` (PRETRAIN_MODEL_TYPES): bert (masked LM), llama (next token), t5 (span corruption). */
  arch?: string;
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
  /** Share of tokens chosen for masked LM, or T5's noise spans, in training (held-out evaluation: always 15%). */
  maskRate?: number; // 0.15
  heldOutSequences?: number; // 256
  /**
   * Corpus line the first pass starts at (later passes restart right after the held-out part). Default:
   * where the `model` run's stream stopped (its pretrain.json, same corpus), else right after the held-out
   * part, so a continuation reads text its parent has not read instead of the same first lines again.
   */
  corpusStartLine?: number;
  evalEvery?: number; // 200 steps (also the checkpoint interval)
  seed?: number; // 42
  fresh?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Stop right after the checkpoint at this step, as an interruption would (tests of resume). */
  abortAfterSteps?: number;
  /**
   * A fresh BERT's position embeddings: 'random' (normal, initializer_range) or 'sinusoidal' (Vaswani et
   * al.'s table scaled to the same standard deviation, still trained), which gives attention relative
   * offsets as linear maps from the first step instead of leaving them to be learned; 'neighbours' also
   * sets heads to attend to fixed offsets (src/train/neighbour-attention-init.ts). A fresh T5 takes only
   * 'neighbours': relative-bias heads at fixed offsets and token-matching cross-attention (t5-neighbour-init.ts).
   */
  positionInit?: PositionInit;
  /** A BERT's objective: masked LM, or next-token prediction under a causal mask (a warm start for masked LM). */
  objective?: 'mlm' | 'causal';
  /** Start from this model folder's weights instead of a fresh preset (its config wins). */
  model?: string;
  /** MUX-PLM pretraining with N instances per group (spec §10.2 stages 1-2); writes a MUX-PLM folder. */
  mux?: number;
  /** MUX-PLM: share of the budget spent on token retrieval (priming) before masked LM. */
  priming?: number; // 0.2
  /** MUX-PLM: norm of the Gaussian Hadamard vectors. */
  nu?: number; // 20
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
}

/** The families `revmux pretrain --arch` can make from random weights (bert, llama). */
export const PRETRAIN_MODEL_TYPES = FRESH_MODEL_TYPES.filter((t) => ARCHITECTURES[t].pretraining);

// The objectives are written against BERT's MLM head and LLaMA's output layer: a family that declares one shares it.
function asBert(m: Backbone): Bert {
  if (!(m instanceof Bert)) throw new Error(`pretrain: masked LM here trains BERT's layout, not ${m.modelType}`);
  return m;
}

function asT5(m: Backbone): T5 {
  if (!(m instanceof T5)) throw new Error(`pretrain: span corruption here trains T5's layout, not ${m.modelType}`);
  return m;
}

function asDecoder(m: Backbone): Llama {
  if (!(m instanceof Llama))
    throw new Error(`pretrain: next-token prediction here trains LLaMA's layout, not ${m.modelType}`);
  return m;
}

/** Whether a run record's family (options.arch, a model_type) learns by next-token prediction. */
export function predictsNextToken(modelType: unknown): boolean {
  return pretrainingObjective(modelType) === 'next-token';
}

/** The objective `revmux pretrain` trains a family (options.arch, a model_type) by; undefined where it has none. */
export function pretrainingObjective(modelType: unknown): Pretraining['objective'] | undefined {
  return isSupported(modelType) ? ARCHITECTURES[modelType].pretraining?.objective : undefined;
}

function pretrainingOf(model: Backbone): Pretraining {
  const p = architectureOf(model.config).pretraining;
  if (!p)
    throw new Error(
      `pretrain: ${model.source} is a ${model.modelType} model; revmux pretrain trains ` +
        `${SUPPORTED_MODEL_TYPES.filter((t) => ARCHITECTURES[t].pretraining).join(', ')} models`,
    );
  return p;
}

/** The run's tokenizer; span corruption's gets the sentinels it lacks (a continued run's already has them). */
function runTokenizer(o: Omit<PretrainOptions, 'out'>): TextTokenizer {
  const tok = TextTokenizer.load(o.tokenizer);
  const modelType = o.model ? readConfig(o.model).model_type : (o.arch ?? 'bert');
  return pretrainingObjective(modelType) === 'span-corruption' ? tok.withSpecialTokens(SENTINELS) : tok;
}

/**
 * The options only a BERT's masked LM reads: --mux (MUX-PLM) and --objective causal (BERT's warm start); any other
 * family trains by its own objective, so refuse them rather than ignore them. `what` names the model in the message.
 */
function checkObjectiveOptions(o: PretrainOptions, objective: Pretraining['objective'], what: string) {
  if (o.mux && objective !== 'masked-lm')
    throw new Error(`pretrain: --mux (MUX-PLM) is for BERT encoders, not ${what}`);
  if (o.objective === 'causal' && (objective !== 'masked-lm' || o.mux))
    throw new Error(
      `pretrain: --objective causal is for BERT encoders without --mux; ${what} ` +
        (o.mux ? 'pretrains MUX-PLM by masked LM' : `pretrains by ${objective}`),
    );
}

/** A fresh preset-sized model of `o.arch` with its pretraining heads, or the model of an existing folder. */
function startModel(o: PretrainOptions, tok: TextTokenizer, seqLen: number, dropout: number, seed: number): Backbone {
  const vocabSize = tok.vocabSize;
  if (o.model) {
    const m = loadModel(o.model);
    checkObjectiveOptions(o, pretrainingOf(m).objective, `${o.model} (${m.modelType})`);
    if (m instanceof Bert && !o.mux && !m.hasMlmHead)
      throw new Error(`pretrain: ${o.model} has no MLM head (cls.predictions.*) to continue masked-LM training with`);
    if (dims(m.config).vocab < vocabSize)
      throw new Error(
        `pretrain: ${o.model} has vocab_size ${dims(m.config).vocab}, fewer than the tokenizer's ${vocabSize} tokens`,
      );
    return m;
  }
  const arch = o.arch ?? 'bert';
  if (!PRETRAIN_MODEL_TYPES.includes(arch as ModelType))
    throw new Error(`pretrain: --arch must be one of ${PRETRAIN_MODEL_TYPES.join(', ')}, got ${JSON.stringify(arch)}`);
  const family = ARCHITECTURES[arch as ModelType].pretraining!;
  checkObjectiveOptions(o, family.objective, `--arch ${arch}`);
  if (dropout > 0 && !family.dropoutFields) throw new Error(`pretrain: ${arch} models have no dropout (--dropout)`);
  const config = presetConfig(arch, sizeOf(o.preset ?? 'mini', o.layers), {
    vocab_size: vocabSize,
    max_position_embeddings: Math.max(512, seqLen),
    ...family.dropoutFields?.(dropout),
    ...family.tokenFields?.(tok),
    ...o.initConfig,
  });
  const model = createModel(config, { seed, heads: (n) => !o.mux && family.heads(n) });
  if (o.positionInit === 'neighbours' && model instanceof T5) t5NeighbourInit(model, seed);
  else if ((o.positionInit ?? 'random') !== 'random') {
    if (!(model instanceof Bert))
      throw new Error(
        `pretrain: --position-init is for BERT's learned positions (and neighbours for T5's), not ${arch}'s`,
      );
    const table = model.weights.get('embeddings.position_embeddings.weight').data as Float32Array;
    const { hidden_size: d, initializer_range: std } = model.config;
    if (o.positionInit === 'sinusoidal') sinusoidalPositions(table, d, std);
    if (o.positionInit === 'neighbours') neighbourAttentionInit(model);
  }
  return model;
}

/** Fills a [P, d] table with sin / cos of position / 10000^(2i/d), scaled to standard deviation `std`. */
export function sinusoidalPositions(table: Float32Array, d: number, std: number): void {
  const P = table.length / d;
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / 10000 ** (i / d);
      table[p * d + i] = Math.sin(angle) * std * Math.SQRT2; // sin and cos have standard deviation 1/sqrt(2)
      if (i + 1 < d) table[p * d + i + 1] = Math.cos(angle) * std * Math.SQRT2;
    }
  }
}

export const POSITION_INITS = ['random', 'sinusoidal', 'neighbours'] as const;
export type PositionInit = (typeof POSITION_INITS)[number];

/** Where the first pass over the corpus starts (see PretrainOptions.corpusStartLine). */
function firstPassStart(o: PretrainOptions, heldOutEnd: PackerState): PackerState {
  let line = o.corpusStartLine;
  const parentRecord = o.model ? path.join(o.model, 'pretrain.json') : null;
  if (line === undefined && parentRecord && fs.existsSync(parentRecord)) {
    const parent = JSON.parse(fs.readFileSync(parentRecord, 'utf8'));
    if (parent.options?.corpus === path.resolve(o.corpus)) line = parent.corpus_lines?.next;
  }
  if (line === undefined) return { lineNo: heldOutEnd.lineNo, pending: [...heldOutEnd.pending] };
  if (!Number.isInteger(line) || line < heldOutEnd.lineNo)
    throw new Error(
      `pretrain: corpus start line ${line} is inside the held-out part of ${o.corpus} ` +
        `(lines 0-${heldOutEnd.lineNo - 1})`,
    );
  return { lineNo: line, pending: [] };
}

/**
 * The held-out slice (the first sequences of the corpus, masked once with a fixed seed for masked LM)
 * and the objective that trains and scores `model`; training starts after the slice.
 */
async function objectiveFor(
  o: PretrainOptions,
  model: Backbone,
  tok: TextTokenizer,
  s: { seqLen: number; batchSize: number; seed: number; dropout: number },
) {
  const { seqLen, batchSize, seed, dropout } = s;
  const special = new Set(
    ['[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]']
      .map((t) => tok.tokenToId(t))
      .filter((x): x is number => x !== undefined),
  );
  // random replacements: real tokens of the tokenizer, past the leading run of bracketed ones ([PAD], [unused0], ...)
  let firstRandomId = 0;
  while (firstRandomId < tok.vocabSize && /^\[.*\]$/.test(tok.idToToken(firstRandomId) ?? '')) firstRandomId++;
  const mlm: MlmOptions = {
    maskId: tok.tokenToId('[MASK]') ?? 103,
    vocabSize: tok.vocabSize,
    specialIds: special,
    firstRandomId,
  };
  const maskRate = o.maskRate ?? 0.15;
  if (!(maskRate > 0 && maskRate < 1)) throw new Error(`pretrain: --mask-rate must be in (0, 1), got ${o.maskRate}`);

  // Held-out: the first sequences of the corpus, masked once with a fixed seed; training starts after them.
  const heldCount = o.heldOutSequences ?? 256;
  const start: PackerState = { lineNo: 0, pending: [] };
  const held: number[][] = [];
  for await (const s of packSequences(o.corpus, tok, seqLen, start)) {
    held.push(s.ids);
    if (held.length >= heldCount) break;
  }
  const trainStart: PackerState = { lineNo: start.lineNo, pending: [...start.pending] };
  const kind = pretrainingOf(model).objective;
  const objective =
    kind === 'next-token'
      ? await causalLm(asDecoder(model), held, { batchSize, tokenizerDir: o.tokenizer })
      : kind === 'span-corruption'
        ? await t5SpanCorruption(asT5(model), tok, held, { noiseDensity: maskRate, seed, batchSize, dropout })
        : o.mux
          ? await muxPlmPretraining(asBert(model), tok, held, mlm, {
              n: o.mux,
              priming: o.priming ?? 0.2,
              nu: o.nu ?? 20,
              seed,
              batchSize,
              dropout: dropout > 0,
              tokenizerDir: o.tokenizer,
              initFrom: o.model ?? `preset:${o.preset ?? 'mini'}`,
            })
          : o.objective === 'causal'
            ? await bertCausalLm(asBert(model), held, { batchSize, dropout: dropout > 0, tokenizerDir: o.tokenizer })
            : await plainMlm(asBert(model), held, mlm, {
                maskRate,
                seed,
                batchSize,
                dropout: dropout > 0,
                tokenizerDir: o.tokenizer,
              });
  return { objective, trainStart, heldCount, maskRate };
}

function t5SpanCorruption(
  model: T5,
  tok: TextTokenizer,
  held: number[][],
  o: { noiseDensity: number; seed: number; batchSize: number; dropout: number },
) {
  const sentinelIds = SENTINELS.map((t) => tok.tokenToId(t)!);
  const { eos_token_id: eosId, decoder_start_token_id: decoderStartId, vocab_size: vocab } = model.config;
  if (Math.max(...sentinelIds) >= vocab)
    throw new Error(`pretrain: ${model.source} has vocab_size ${vocab}, too small for the sentinels <extra_id_0>...`);
  return spanCorruption(
    model,
    held,
    { meanSpanLength: MEAN_SPAN_LENGTH, sentinelIds, eosId, decoderStartId },
    { ...o, dropout: o.dropout > 0, tokenizer: tok },
  );
}

/** Held-out loss and accuracy of a model folder on the slice a run with these options holds out. */
export async function scoreHeldOut(
  o: Omit<PretrainOptions, 'out'> & { model: string },
): Promise<{ loss: number; accuracy: number; sequences: number }> {
  const tok = runTokenizer(o);
  const model = startModel(o as PretrainOptions, tok, o.seqLen ?? 128, 0, o.seed ?? 42);
  const { objective, heldCount } = await objectiveFor(o as PretrainOptions, model, tok, {
    seqLen: o.seqLen ?? 128,
    batchSize: o.batchSize ?? 64,
    seed: o.seed ?? 42,
    dropout: 0,
  });
  return { ...(await objective.heldOut()), sequences: heldCount };
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  prepareOutDir(o.out);
  const log = o.log ?? ((s: string) => console.error(s));
  const seed = o.seed ?? 42;
  const seqLen = o.seqLen ?? 128;
  const batchSize = o.batchSize ?? 64;
  const peak = o.lr ?? 1e-3;
  const warm = o.warmupFraction ?? 0.05;
  const evalEvery = o.evalEvery ?? 200;
  const dropout = o.dropout ?? 0;
  if (!o.maxSteps && !o.minutes) throw new Error('pretrain: give a budget, --max-steps and/or --minutes');
  const tok = runTokenizer(o);
  const model = startModel(o, tok, seqLen, dropout, seed);
  const { layers, hidden } = dims(model.config);

  const { objective, trainStart, heldCount, maskRate } = await objectiveFor(o, model, tok, {
    seqLen,
    batchSize,
    seed,
    dropout,
  });
  const params = objective.params;
  const scaledSteps = pretrainingOf(model).scaledSteps ?? false;
  const firstPass = firstPassStart(o, trainStart);
  const firstLine = firstPass.lineNo; // firstPass itself becomes the loop's packer, which advances in place
  const optimizer = new AdamW({
    weightDecay: o.weightDecay ?? 0.01,
    eps: 1e-6,
    noDecay: (n) => n.endsWith('.bias') || n.includes('LayerNorm') || n === 'demux.keys',
    scaleByRms: scaledSteps,
  });

  const runMeta = {
    corpus: path.resolve(o.corpus),
    tokenizer: path.resolve(o.tokenizer),
    positionInit: o.positionInit ?? 'random',
    objective: o.objective ?? 'mlm',
    scaledSteps,
    arch: model.modelType,
    preset: o.preset ?? 'mini',
    model: o.model ?? null,
    mux: o.mux ?? null,
    priming: o.mux ? (o.priming ?? 0.2) : null,
    layers,
    hidden,
    seqLen,
    batchSize,
    lr: peak,
    warm,
    maxSteps: o.maxSteps ?? null,
    minutes: o.minutes ?? null,
    dropout,
    maskRate,
    seed,
    heldOut: heldCount,
  };

  // the loop's position (time used, tokens, corpus position) lives in meta next to the settings
  const settings = (m: Record<string, unknown>) =>
    Object.fromEntries(
      Object.keys(runMeta)
        .filter((k) => k in m)
        .map((k) => [k, m[k]]),
    );
  // packer: a copy, since the loop advances it in place and each new pass restarts from trainStart
  const setup = resumableRun(
    o.out,
    params,
    optimizer,
    { ...runMeta, elapsed: 0, tokens: 0, packer: firstPass },
    { fresh: o.fresh, log, settings },
  );
  const state = setup.state;
  const meta = state.meta as PretrainMeta;
  log(
    `pretrain ${model.modelType}${o.mux ? ` MUX-PLM N=${o.mux}` : ''} L${layers} H${hidden}: ` +
      `${params.size().toLocaleString('en-US')} parameters, ${heldCount} held-out sequences, ` +
      `batch ${batchSize}x${seqLen}`,
  );

  const budgetFraction = () =>
    Math.max(o.maxSteps ? state.step / o.maxSteps : 0, o.minutes ? meta.elapsed / (o.minutes * 60) : 0);
  const lrAt = (f: number) => (f < warm ? (peak * f) / warm : peak * Math.max(0, (1 - f) / (1 - warm)));
  let last = { loss: NaN, accuracy: NaN };
  let segmentStart = Date.now();
  let segmentTokens = 0;
  const t0 = Date.now();

  // An epoch is a pass over the corpus after the held-out part; a resumed pass continues at the saved position.
  async function* corpusBatches(epoch: number, resumeAt: number): AsyncGenerator<number[][]> {
    if (epoch > 0 && resumeAt === 0) meta.packer = { lineNo: trainStart.lineNo, pending: [...trainStart.pending] };
    const fromStart = meta.packer.lineNo === trainStart.lineNo;
    let produced = 0;
    let buffer: number[][] = [];
    for await (const s of packSequences(o.corpus, tok, seqLen, meta.packer)) {
      produced++;
      buffer.push(s.ids);
      if (buffer.length < batchSize) continue;
      yield buffer;
      buffer = [];
    }
    if (produced === 0 && fromStart)
      throw new Error(
        `${o.corpus}: no training sequences after the ${heldCount} held-out ones; ` +
          `the corpus is too small for --seq-len ${seqLen} (or lower --held-out)`,
      );
    log(`corpus pass ${epoch + 1} done, starting over`);
  }

  const loop = await runLoop<number[][]>({
    label: 'pretrain',
    ...setup,
    seed,
    epochs: Infinity,
    totalSteps: o.maxSteps,
    batches: corpusBatches,
    graphKey: () => objective.phase(budgetFraction()),
    trainGraph: (dropoutSeed) => objective.trainGraph(dropoutSeed, budgetFraction()),
    feeds: (seqs, step) => objective.feeds(seqs, step, budgetFraction()),
    report: (r, seqs) => ({ loss: float32(r.loss)[0], examples: seqs.length }),
    lr: () => lrAt(budgetFraction()),
    maxGradNorm: o.maxGradNorm ?? 1,
    evalEvery,
    done: () => budgetFraction() >= 1,
    afterStep(ms, r) {
      meta.elapsed += ms / 1000;
      meta.tokens += r.examples * seqLen;
      segmentTokens += r.examples * seqLen;
    },
    keep: 'last',
    async evaluate(t) {
      last = await objective.heldOut();
      const row = {
        tokens: meta.tokens,
        elapsed_s: Math.round(meta.elapsed),
        train_loss: t.loss,
        heldout_loss: last.loss,
        heldout_acc: last.accuracy,
        lr: lrAt(budgetFraction()),
      };
      segmentStart = Date.now();
      segmentTokens = 0;
      return {
        metric: last.accuracy,
        row,
        line:
          `${meta.tokens.toLocaleString('en-US')} tokens, train loss ${t.loss.toFixed(4)}, ` +
          `held-out loss ${last.loss.toFixed(4)}, held-out accuracy ${last.accuracy.toFixed(4)}`,
      };
    },
    save: () => objective.save(o.out),
    progressFields: (t) => ({
      loss: t.loss,
      'tok/s': (segmentTokens * 1000) / Math.max(1, Date.now() - segmentStart),
      budget: `${(100 * budgetFraction()).toFixed(1)}%`,
    }),
    log,
    quiet: o.quiet,
    abortAfterSteps: o.abortAfterSteps,
  });
  if (loop.aborted)
    return {
      steps: state.step,
      tokens: meta.tokens,
      seconds: meta.elapsed,
      tokensPerSecond: 0,
      heldOut: last,
      history: state.history,
      parameters: params.size(),
    };
  const result: PretrainResult = {
    steps: state.step,
    tokens: meta.tokens,
    seconds: meta.elapsed,
    tokensPerSecond: meta.tokens / Math.max(1e-9, meta.elapsed),
    heldOut: last,
    history: state.history,
    parameters: params.size(),
  };
  fs.mkdirSync(o.out, { recursive: true });
  writeTextAtomic(
    path.join(o.out, 'pretrain.json'),
    JSON.stringify(
      {
        ...result,
        wall_seconds: (Date.now() - t0) / 1000,
        // where this run's stream started and stopped, so a continuation (--model this folder) reads on
        corpus_lines: { first: firstLine, next: meta.packer.lineNo },
        options: runMeta,
      },
      null,
      2,
    ) + '\n',
  );
  return result;
}
