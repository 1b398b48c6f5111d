// SISO full fine-tuning on a GLUE task: every weight trains. BERT gets a classifier on the pooler;
// T5 and LLaMA answer with the task's label words (verbalizer over their LM head). The best
// dev-accuracy checkpoint is written as a Hugging Face folder (with id2label) that `revmux train`
// can freeze and transformers can load.
//
// Resume is exact at checkpoint boundaries: the data order comes from (seed, epoch) and each
// segment between checkpoints gets its own dropout seed, so a resumed run draws the same masks.
import fs from 'node:fs';
import path from 'node:path';
import { Graph } from '../engine/graph.js';
import { AdamW, linearWarmupDecay } from '../engine/optim.js';
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { type HostTensor, type Session, compile, float32 } from '../engine/runtime.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { TextTokenizer } from '../io/tokenizer.js';
import { collate, encodeExamples, epochBatches, sequentialBatches, type EncodedExample } from '../data/batching.js';
import { TASKS, type Task, loadExamples } from '../data/glue.js';
import type { ModelInputs } from '../models/backbone.js';
import type { Backbone } from '../models/backbone.js';
import type { MuxHead } from '../mux/heads.js';
import { loadModel } from '../models/load.js';
import { freshClassifier, presetConfig, sizeOf } from '../models/presets.js';
import { saveModel } from '../models/save.js';
import { crossEntropy } from '../nn/losses.js';
import { prepareOutDir, resumableRun } from './checkpoint.js';
import { countCorrect, runLoop } from './loop.js';

export interface FinetuneOptions {
  /** A BERT folder to start from (pretrained or not); or `init` for random weights of a preset. */
  model?: string;
  init?: string;
  /** With `init`: the family (bert, the default; llama or t5 answer with label words); see FRESH_MODEL_TYPES. */
  arch?: string;
  /** With `init`: override the preset's number of layers. */
  layers?: number;
  /** With `init`: any other config.json fields to override (tests use very small models). */
  initConfig?: Record<string, unknown>;
  /** tokenizer.json folder; default: the model folder. */
  tokenizer?: string;
  task: Task;
  /** GLUE folder; not needed for the synthetic task. */
  dataDir: string | null;
  out: string;
  epochs?: number; // 3
  batchSize?: number; // 32
  lr?: number; // 5e-5
  warmupFraction?: number; // 0.1
  weightDecay?: number; // 0.01
  maxLength?: number; // 128
  seed?: number; // 42
  /** Evaluate and checkpoint every this many steps (default: once per epoch). */
  evalEvery?: number;
  maxGradNorm?: number; // 1.0
  /** Use only the first N training examples (quick runs, tests). */
  limitTrain?: number;
  limitDev?: number;
  /** Start over even if a resumable state exists. */
  fresh?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Stop right after the checkpoint at this step, as an interruption would (tests of resume). */
  abortAfterSteps?: number;
}

export interface FinetuneResult {
  bestDevAccuracy: number;
  bestStep: number;
  steps: number;
  history: Record<string, number>[];
  out: string;
  seconds: number;
}

const noDecay = (name: string) => name.endsWith('.bias') || name.includes('LayerNorm');

/** The model to fine-tune; a fresh preset gets exactly the tokenizer's vocabulary (rows past it never train). */
function loadBackbone(o: FinetuneOptions, vocabSize: number): Backbone {
  if (!!o.model === !!o.init) throw new Error('finetune: give exactly one of --model DIR or --init PRESET');
  if (o.init) {
    const labels = TASKS[o.task].labelWords;
    const config = presetConfig(o.arch ?? 'bert', sizeOf(o.init, o.layers), {
      vocab_size: vocabSize,
      id2label: { 0: labels[0], 1: labels[1] }, // BERT sizes its classifier from them; config.json keeps them
      label2id: { [labels[0]]: 0, [labels[1]]: 1 },
      ...o.initConfig,
    });
    return freshClassifier(config, o.seed ?? 42);
  }
  const m = loadModel(o.model!);
  m.prepareForFinetuning(o.seed ?? 42); // e.g. a fresh classifier for a pretrained encoder
  return m;
}

/** Params share the model's arrays, so optimiser updates are what saveModel writes. */
function trainableParams(m: Backbone): ParamSet {
  const ps = new ParamSet();
  for (const [n, w] of m.weights.entries()) if (m.finetunes(n)) ps.add(n, w.shape, w.data);
  return ps;
}

/**
 * Label logits [B, 2] of the whole model, every weight a trainable input: BERT's classifier on the
 * pooler; T5 (decoder step 1) and LLaMA (last real token) through their label words' LM-head rows.
 */
function classifierGraph(m: Backbone, head: MuxHead, params: ParamSet, training: boolean, seed: number): Graph {
  const g = new Graph(training ? 'finetune-train' : 'finetune-eval');
  const p = params.declare(g);
  const inputs: ModelInputs = {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
  };
  if (m.usesTokenTypes) inputs.tokenTypeIds = g.input('token_type_ids', 'int64', ['batch', 'seq']);
  const extra = head.answerInputs(inputs.attentionMask);
  const b = m.bind(g, { training, seed, trainable: (n) => p.get(n) });
  const logits = head.siso(b, b.embed(inputs), inputs.attentionMask, 0, extra).logits;
  g.output('logits', logits);
  if (training) {
    const labels = g.input('labels', 'int64', ['batch']);
    const loss = crossEntropy(logits, labels);
    g.output('loss', loss);
    params.outputGradients(loss, p);
  }
  return g;
}

/** Feeds of the classifier graph for examples `idx`. */
function batchFeeds(
  m: Backbone,
  data: EncodedExample[],
  idx: number[],
  padId: number,
  withLabels: boolean,
): Record<string, HostTensor> {
  const b = collate(data, idx, padId);
  const f: Record<string, HostTensor> = { input_ids: b.input_ids, attention_mask: b.attention_mask };
  if (m.usesTokenTypes) f.token_type_ids = b.token_type_ids;
  if (withLabels) f.labels = b.labels;
  return f;
}

export async function evaluateClassifier(
  session: Session,
  params: ParamSet,
  data: EncodedExample[],
  padId: number,
  batchSize: number,
  m: Backbone,
): Promise<number> {
  let correct = 0;
  for (const idx of sequentialBatches(data.length, batchSize)) {
    const r = await session.run({ ...params.feeds(), ...batchFeeds(m, data, idx, padId, false) }, ['logits']);
    correct += countCorrect(
      float32(r.logits),
      idx.map((ex) => data[ex].label),
    );
  }
  return correct / data.length;
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  prepareOutDir(o.out);
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => console.error(s));
  const seed = o.seed ?? 42;
  const epochs = o.epochs ?? 3;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 5e-5;
  const maxLength = o.maxLength ?? 128;
  const tokDir = o.tokenizer ?? o.model;
  if (!tokDir)
    throw new Error(
      'finetune: --tokenizer DIR is needed with --init (e.g. ../shared/data/tokenizers/bert-base-uncased)',
    );
  const tok = TextTokenizer.load(tokDir);
  const model = loadBackbone(o, tok.vocabSize);

  let train = loadExamples(o.task, 'train', o.dataDir);
  let dev = loadExamples(o.task, 'dev', o.dataDir);
  if (o.limitTrain) train = train.slice(0, o.limitTrain);
  if (o.limitDev) dev = dev.slice(0, o.limitDev);
  const head = model.taskHead({ labelIds: model.labelTokenIds(tok, o.task), tokenizer: tok });
  const trainEnc = encodeExamples(
    tok,
    train.map((e) => model.formatExample(o.task, e)),
    maxLength,
  );
  const devEnc = encodeExamples(
    tok,
    dev.map((e) => model.formatExample(o.task, e)),
    maxLength,
  );
  const lengths = trainEnc.map((e) => e.ids.length);
  const stepsPerEpoch = Math.ceil(trainEnc.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const evalEvery = o.evalEvery ?? stepsPerEpoch;
  const schedule = linearWarmupDecay(lr, Math.round((o.warmupFraction ?? 0.1) * totalSteps), totalSteps);

  const params = trainableParams(model);
  const optimizer = new AdamW({ weightDecay: o.weightDecay ?? 0.01, noDecay });
  const meta = {
    task: o.task,
    model:
      o.model ?? `init:${(o.arch ?? 'bert') === 'bert' ? '' : `${o.arch}-`}${o.init}${o.layers ? `:L${o.layers}` : ''}`,
    epochs,
    batchSize,
    lr,
    maxLength,
    seed,
    limitTrain: o.limitTrain ?? null,
    evalEvery,
  };
  const setup = resumableRun(o.out, params, optimizer, meta, { fresh: o.fresh, log });
  const state = setup.state;
  log(
    `finetune ${o.task}: ${params.size().toLocaleString('en-US')} parameters, ${trainEnc.length} train / ` +
      `${devEnc.length} dev examples, ${totalSteps} steps`,
  );

  const evalSession = await compile(classifierGraph(model, head, params, false, seed));
  const labels = TASKS[o.task].labelWords;
  const loop = await runLoop<number[]>({
    label: `finetune ${o.task}`,
    ...setup,
    seed,
    epochs,
    totalSteps,
    batches: (epoch, resumeAt) => epochBatches(lengths, batchSize, new Rng(seed * 7919 + epoch)).slice(resumeAt),
    trainGraph: (dropoutSeed) => classifierGraph(model, head, params, true, dropoutSeed),
    feeds: (idx) => batchFeeds(model, trainEnc, idx, tok.padId, true),
    report: (r, idx) => ({
      loss: float32(r.loss)[0],
      examples: idx.length,
      correct: countCorrect(
        float32(r.logits),
        idx.map((i) => trainEnc[i].label),
      ),
    }),
    lr: schedule,
    maxGradNorm: o.maxGradNorm ?? 1,
    evalEvery,
    keep: 'best',
    async evaluate(t) {
      const acc = await evaluateClassifier(evalSession, params, devEnc, tok.padId, 64, model);
      const line = `train loss ${t.loss.toFixed(4)}, train acc ${t.accuracy.toFixed(4)}, dev acc ${acc.toFixed(4)}`;
      return {
        metric: acc,
        row: { epoch: t.epoch + 1, train_loss: t.loss, train_acc: t.accuracy, dev_acc: acc },
        line,
      };
    },
    save: () =>
      saveModel(model, o.out, {
        tokenizerFrom: tokDir,
        extraConfig: {
          finetuning_task: o.task,
          id2label: { 0: labels[0], 1: labels[1] },
          label2id: { [labels[0]]: 0, [labels[1]]: 1 },
        },
      }),
    progressFields: (t) => ({ loss: t.loss, acc: t.accuracy, 'ex/s': (t.examples * 1000) / Math.max(1, t.ms) }),
    log,
    quiet: o.quiet,
    abortAfterSteps: o.abortAfterSteps,
  });
  if (loop.aborted)
    return {
      bestDevAccuracy: state.best?.metric ?? NaN,
      bestStep: state.best?.step ?? 0,
      steps: state.step,
      history: state.history,
      out: o.out,
      seconds: (Date.now() - t0) / 1000,
    };
  const result: FinetuneResult = {
    bestDevAccuracy: state.best?.metric ?? NaN,
    bestStep: state.best?.step ?? 0,
    steps: state.step,
    history: state.history,
    out: o.out,
    seconds: (Date.now() - t0) / 1000,
  };
  fs.mkdirSync(o.out, { recursive: true });
  // the tokenizer is not part of the resume identity (meta), but a run from --init cannot be repeated without it
  const options = { ...meta, tokenizer: o.tokenizer ?? null };
  writeTextAtomic(path.join(o.out, 'finetune.json'), JSON.stringify({ ...result, options }, null, 2) + '\n');
  return result;
}
