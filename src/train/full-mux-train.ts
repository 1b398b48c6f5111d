// Task fine-tuning of the whole-model multiplexers (`revmux finetune --method datamux|muxplm`):
// every BERT weight and the mux heads train on groups of N examples (DataMUX: task CE × 0.9 +
// token retrieval × 0.1, spec §9.5; MUX-PLM: task CE only, spec §10.2 stage 3). Groups are drawn
// afresh every epoch; the best dev accuracy (one fixed pairing) is kept, and with `patience` the run ends
// once dev accuracy stops improving (the learning rate still decays over the epoch cap); resume is exact
// at checkpoint boundaries, as in finetune.ts.
import fs from 'node:fs';
import path from 'node:path';
import { AdamW, linearWarmupDecay } from '../engine/optim.js';
import { ParamSet } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { type Session, compile, float32 } from '../engine/runtime.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { TextTokenizer } from '../io/tokenizer.js';
import { type EncodedExample, encodeExamples, epochBatches } from '../data/batching.js';
import { TASKS, type Task, loadExamples } from '../data/glue.js';
import { predictFullMux } from '../eval/full-mux.js';
import { loadModel } from '../models/load.js';
import type { FullMuxMethod } from '../baselines/datamux.js';
import {
  type FullMuxModel,
  allParams,
  bertEncoder,
  freshFullMux,
  isFullMuxFolder,
  loadFullMux,
  saveFullMux,
} from '../baselines/full-model.js';
import { fullMuxGraph, groupFeeds, retrievalFeeds } from '../baselines/full-mux-graph.js';
import { prepareOutDir, resumableRun } from './checkpoint.js';
import { countCorrect, runLoop } from './loop.js';

export interface FullMuxFinetuneOptions {
  method: FullMuxMethod;
  n: number;
  /** A BERT folder (pretrained or SISO fine-tuned), or a MUX-PLM folder from `revmux pretrain --mux`. */
  model: string;
  /** tokenizer.json folder; default: the model folder. */
  tokenizer?: string;
  task: Task;
  dataDir: string | null;
  out: string;
  /** Epochs, or with `patience` the cap. */
  epochs?: number; // 3
  /** Stop after this many dev evaluations in a row without a better accuracy (default: train every epoch). */
  patience?: number;
  /** Instances per step (rounded down to a multiple of N). */
  batchSize?: number; // 32
  lr?: number; // 5e-5 (spec §9.5, §10.2)
  warmupFraction?: number; // 0.1
  weightDecay?: number; // 0.01
  maxLength?: number; // 128
  /** DataMUX: share of the token-retrieval loss (spec: 0.1). */
  retrievalWeight?: number;
  /** Norm of the Hadamard vectors of a new model (spec: 20). */
  nu?: number;
  seed?: number; // 42
  evalEvery?: number;
  maxGradNorm?: number; // 1
  limitTrain?: number;
  limitDev?: number;
  fresh?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  abortAfterSteps?: number;
}

export interface FullMuxFinetuneResult {
  bestDevAccuracy: number;
  bestStep: number;
  steps: number;
  /** Steps taken over steps per epoch: below the cap when patience ended the run. */
  epochsTrained: number;
  history: Record<string, number>[];
  out: string;
  seconds: number;
  /** Wall seconds of the training loop over all the processes that ran it (LoopState.loopSeconds). */
  loopSeconds: number;
}

const noDecay = (name: string) => name.endsWith('.bias') || name.includes('LayerNorm') || name === 'demux.keys';

/**
 * The model to fine-tune: a MUX-PLM folder gets a classifier and its third demux layer; a plain BERT gets fresh heads.
 */
export function startingModel(
  o: Pick<FullMuxFinetuneOptions, 'method' | 'n' | 'model' | 'nu' | 'seed'>,
  tok: TextTokenizer,
): { model: FullMuxModel; note: string } {
  const seed = o.seed ?? 42;
  if (isFullMuxFolder(o.model)) {
    const { model, config } = loadFullMux(o.model, { numLabels: 2, demuxLayers: o.method === 'muxplm' ? 3 : 2 }, seed);
    if (config.method !== o.method)
      throw new Error(`${o.model}: a ${config.method} model cannot be fine-tuned as ${o.method}`);
    if (config.n !== o.n) throw new Error(`${o.model}: multiplexes N = ${config.n}, asked for N = ${o.n}`);
    return { model, note: `continuing the ${config.stage} ${config.method} model in ${o.model}` };
  }
  const model = freshFullMux(bertEncoder(loadModel(o.model), o.method, o.model), o.method, o.n, {
    nu: o.nu,
    seed,
    tokenToId: (t) => tok.tokenToId(t),
  });
  const note =
    o.method === 'muxplm'
      ? `MUX-PLM heads on ${o.model} without multiplexed pretraining (run revmux pretrain --mux ${o.n} first for the ` +
        `full method)`
      : `DataMUX on ${o.model}`;
  return { model, note };
}

export async function devAccuracy(
  session: Session,
  params: ParamSet,
  m: FullMuxModel,
  dev: EncodedExample[],
  padId: number,
  seed: number,
): Promise<number> {
  const order = new Rng(seed).shuffle([...dev.keys()]);
  const pred = await predictFullMux(session, params, m.settings, dev, order, padId);
  return pred.reduce((a, p, i) => a + (p === dev[i].label ? 1 : 0), 0) / dev.length;
}

export async function finetuneFullMux(o: FullMuxFinetuneOptions): Promise<FullMuxFinetuneResult> {
  prepareOutDir(o.out);
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => console.error(s));
  const seed = o.seed ?? 42;
  const epochs = o.epochs ?? 3;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (o.patience !== undefined && !(Number.isInteger(o.patience) && o.patience >= 1))
    throw new Error(`patience must be a positive integer, got ${o.patience}`);
  const n = o.n;
  const batchSize = Math.max(n, Math.floor((o.batchSize ?? 32) / n) * n);
  const tokDir = o.tokenizer ?? o.model;
  const tok = TextTokenizer.load(tokDir);
  const { model, note } = startingModel(o, tok);
  log(note);

  let train = loadExamples(o.task, 'train', o.dataDir);
  let dev = loadExamples(o.task, 'dev', o.dataDir);
  if (o.limitTrain) train = train.slice(0, o.limitTrain);
  if (o.limitDev) dev = dev.slice(0, o.limitDev);
  const maxLength = o.maxLength ?? 128;
  const trainEnc = encodeExamples(tok, train, maxLength);
  const devEnc = encodeExamples(tok, dev, maxLength);
  const lengths = trainEnc.map((e) => e.ids.length);
  const epochPlan = (epoch: number) =>
    epochBatches(lengths, batchSize, new Rng(seed * 7919 + epoch))
      .map((b) => b.slice(0, b.length - (b.length % n)))
      .filter((b) => b.length > 0);
  const stepsPerEpoch = epochPlan(0).length;
  const totalSteps = stepsPerEpoch * epochs;
  const evalEvery = o.evalEvery ?? stepsPerEpoch;
  const schedule = linearWarmupDecay(o.lr ?? 5e-5, Math.round((o.warmupFraction ?? 0.1) * totalSteps), totalSteps);
  const retrievalWeight = o.method === 'datamux' ? (o.retrievalWeight ?? 0.1) : 0;

  const params = allParams(model);
  const optimizer = new AdamW({ weightDecay: o.weightDecay ?? 0.01, noDecay });
  const meta = {
    method: o.method,
    n,
    task: o.task,
    model: o.model,
    epochs,
    ...(o.patience !== undefined ? { patience: o.patience } : {}),
    batchSize,
    lr: o.lr ?? 5e-5,
    maxLength,
    retrievalWeight,
    seed,
    limitTrain: o.limitTrain ?? null,
    evalEvery,
  };
  const setup = resumableRun(o.out, params, optimizer, meta, { fresh: o.fresh, log });
  const state = setup.state;
  log(
    `finetune ${o.method} N=${n} ${o.task}: ${params.size().toLocaleString('en-US')} parameters, ${trainEnc.length} ` +
      `train / ${devEnc.length} dev examples, ${totalSteps} steps of ${batchSize} instances`,
  );

  const s = model.settings;
  const evalSession = await compile(
    fullMuxGraph(model.bert, s, params, model.vectors, { objective: 'task', training: false, seed }),
  );
  const result = (): FullMuxFinetuneResult => ({
    bestDevAccuracy: state.best?.metric ?? NaN,
    bestStep: state.best?.step ?? 0,
    steps: state.step,
    epochsTrained: state.step / stepsPerEpoch,
    history: state.history,
    out: o.out,
    seconds: (Date.now() - t0) / 1000,
    loopSeconds: state.loopSeconds ?? NaN,
  });
  const examples = (idx: number[]) => idx.map((i) => trainEnc[i]);
  const loop = await runLoop<number[]>({
    label: `finetune ${o.method} ${o.task}`,
    ...setup,
    seed,
    epochs,
    totalSteps,
    batches: (epoch, resumeAt) => epochPlan(epoch).slice(resumeAt),
    trainGraph: (dropoutSeed) =>
      fullMuxGraph(model.bert, s, params, model.vectors, {
        objective: 'task',
        training: true,
        seed: dropoutSeed,
        retrievalWeight,
      }),
    feeds(idx, step) {
      const seqs = examples(idx);
      const batch = groupFeeds(s, seqs, tok.padId);
      const labels = { data: BigInt64Array.from(seqs, (e) => BigInt(e.label)), shape: [seqs.length] };
      const aux = retrievalWeight > 0 ? retrievalFeeds(s, seqs, batch.seq, new Rng(seed * 31 + step)) : {};
      return { ...batch.feeds, labels, ...aux };
    },
    report: (r, idx) => ({
      loss: float32(r.loss)[0],
      examples: idx.length,
      correct: countCorrect(
        float32(r.logits),
        examples(idx).map((e) => e.label),
      ),
    }),
    lr: schedule,
    maxGradNorm: o.maxGradNorm ?? 1,
    evalEvery,
    keep: 'best',
    async evaluate(t) {
      const acc = await devAccuracy(evalSession, params, model, devEnc, tok.padId, seed + 1);
      const line = `train loss ${t.loss.toFixed(4)}, train acc ${t.accuracy.toFixed(4)}, dev acc ${acc.toFixed(4)}`;
      return {
        metric: acc,
        row: { epoch: t.epoch + 1, train_loss: t.loss, train_acc: t.accuracy, dev_acc: acc },
        line,
      };
    },
    save: (acc, step) =>
      saveFullMux(
        o.out,
        model,
        {
          stage: 'finetuned',
          task: o.task,
          label_words: [...TASKS[o.task].labelWords],
          init_from: o.model,
          training: meta,
          metrics: { dev_accuracy_one_pairing: acc, step },
        },
        tokDir,
      ),
    progressFields: (t) => ({ loss: t.loss, acc: t.accuracy, 'ex/s': (t.examples * 1000) / Math.max(1, t.ms) }),
    log,
    quiet: o.quiet,
    abortAfterSteps: o.abortAfterSteps,
    patience: o.patience,
  });
  if (loop.aborted) return result();
  fs.mkdirSync(o.out, { recursive: true });
  writeTextAtomic(path.join(o.out, 'finetune.json'), JSON.stringify({ ...result(), options: meta }, null, 2) + '\n');
  return result();
}
