// Training multiplexing adapters on a frozen backbone (`revmux train`), spec §5-6:
// loss = CE + lambda * InfoNCE(scale 20, towards the frozen SISO teacher) + mu * mapping loss,
// AdamW on the adapter parameters only, constant learning rate, random pairings every epoch,
// best adapter by dev accuracy, resumable.
import fs from 'node:fs';
import path from 'node:path';
import { AdamW } from '../engine/optim.js';
import { Rng } from '../engine/random.js';
import { float32 } from '../engine/runtime.js';
import { writeTextAtomic } from '../io/safetensors.js';
import { TASKS, type Task } from '../data/glue.js';
import { loadModel } from '../models/load.js';
import { type AdapterConfig, LAYOUT, baseModelInfo, revmuxVersion, saveAdapter } from '../mux/adapter.js';
import { type Features, assembleGroups, sisoAccuracy } from '../mux/features.js';
import { prepareFeatures, taskHead } from '../mux/task-features.js';
import { muxGraph } from '../mux/graphs.js';
import { type MuxSpec, type MuxVariant, adapterSize, initAdapter, validateSpec } from '../mux/spec.js';
import { VARIANTS } from '../mux/variants.js';
import { evaluatePairings } from '../eval/pairing.js';
import { prepareOutDir, resumableRun } from './checkpoint.js';
import { countCorrect, runLoop, sequentialSlices } from './loop.js';
import type { Precision } from '../nn/precision.js';

export interface MuxTrainOptions {
  /** Frozen backbone folder (a fine-tuned classifier for BERT). */
  model: string;
  task: Task;
  /** GLUE folder; not needed for the synthetic task. */
  dataDir: string | null;
  out: string;
  variant: MuxVariant;
  n: number;
  l: number;
  epochs?: number; // 3
  batchSize?: number; // 32 instances per step
  lr?: number; // 1e-3, constant
  /** InfoNCE weight; default 0.25 for BERT revmux/ora, else 0.5 (spec §5.2). */
  lambda?: number;
  mu?: number; // 1
  dropout?: number; // 0.1
  /** Dropout in the frozen layers [l, L) while training (spec A18: on in the original code). */
  backboneDropout?: boolean;
  weightDecay?: number; // 0.01
  maxGradNorm?: number; // 0 = no clipping (as the original)
  seed?: number; // 42
  maxLength?: number; // 128
  /** Dev pairings used to pick the best adapter after each epoch (the final protocol uses 10, see revmux eval). */
  selectPairings?: number; // 1
  evalEvery?: number;
  limitTrain?: number;
  limitDev?: number;
  fresh?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Reuse features already computed for this backbone and l (the demo trains several variants). */
  features?: { train: Features; dev: Features };
  /** Stop right after the checkpoint at this step, as an interruption would (tests of resume). */
  abortAfterSteps?: number;
  /**
   * Early stopping: stop after this many evaluations in a row without a better dev accuracy (`epochs` is then the cap).
   */
  patience?: number;
  /** The frozen backbone in int8 (forward and backward through dequantized weights); default fp32. */
  precision?: Precision;
}

export interface MuxTrainResult {
  bestDevAccuracy: number;
  bestStep: number;
  steps: number;
  /** Passes over the training set actually made (early stopping may end a run before `epochs`). */
  epochsTrained: number;
  sisoDevAccuracy: number;
  history: Record<string, number>[];
  seconds: number;
  /** Wall seconds of the training loop over all the processes that ran it (LoopState.loopSeconds). */
  loopSeconds: number;
  trainExamplesPerSecond: number;
  features: { train: Features; dev: Features };
}

export async function trainMux(o: MuxTrainOptions): Promise<MuxTrainResult> {
  prepareOutDir(o.out);
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => console.error(s));
  const precision = o.precision ?? 'fp32';
  const model = loadModel(o.model, { precision });
  const { head, labelIds } = taskHead(model, o.model, o.task);
  const spec: MuxSpec = { variant: o.variant, n: o.n, l: o.l, d: model.hiddenSize, dropout: o.dropout ?? 0.1 };
  validateSpec(spec, model.numLayers);
  const seed = o.seed ?? 42;
  const epochs = o.epochs ?? 3;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 1e-3;
  const lambda = o.lambda ?? VARIANTS[o.variant].lambda[labelIds === null ? 'classifier' : 'labelWords'];
  const mu = o.mu ?? 1;
  const features = o.features ?? (await prepareFeatures(model, o));
  const { train, dev } = features;
  const sisoDev = sisoAccuracy(dev);

  const params = initAdapter(spec, seed);
  let lastSelection: { pairings: number } | null = null;
  const optimizer = new AdamW({ weightDecay: o.weightDecay ?? 0.01, eps: 1e-6, noDecay: (n) => n.endsWith('.bias') });
  const stepsPerEpoch = Math.ceil(train.count / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const evalEvery = o.evalEvery ?? stepsPerEpoch;
  const baseModel = baseModelInfo(model); // hashes every weight: once per run, not at every save
  const meta = {
    model: path.resolve(o.model),
    // a resume must refuse the same folder holding other weights (a backbone fine-tuned again)
    modelWeights: baseModel.weights_sha256,
    task: o.task,
    variant: o.variant,
    n: o.n,
    l: o.l,
    epochs,
    batchSize,
    lr,
    lambda,
    mu,
    dropout: spec.dropout,
    backboneDropout: o.backboneDropout ?? true,
    seed,
    limitTrain: o.limitTrain ?? null,
    precision,
  };
  const setup = resumableRun(o.out, params, optimizer, meta, { fresh: o.fresh, log });
  const state = setup.state;
  log(
    `train ${o.variant} N=${o.n} l=${o.l} on ${o.task}${precision === 'fp32' ? '' : ` (backbone in ${precision})`}: ` +
      `${adapterSize(spec).toLocaleString('en-US')} adapter parameters, ${train.count} train / ${dev.count} ` +
      `dev, SISO dev accuracy ${sisoDev.toFixed(4)}`,
  );

  const config = (metrics?: Record<string, unknown>): AdapterConfig => ({
    revmux_version: revmuxVersion(),
    ...spec,
    layout: LAYOUT,
    task: o.task,
    label_words: TASKS[o.task].labelWords,
    label_ids: labelIds,
    base_model: baseModel,
    training: meta,
    metrics,
  });
  const loop = await runLoop<number[]>({
    label: `train ${o.variant} N=${o.n}`,
    ...setup,
    seed,
    epochs,
    totalSteps,
    // new pairings every epoch: consecutive examples of the shuffled order share a multiplexed row
    batches: (epoch, resumeAt) =>
      sequentialSlices(new Rng(seed * 7919 + epoch).shuffle([...Array(train.count).keys()]), batchSize, resumeAt),
    trainGraph: (dropoutSeed) =>
      muxGraph(model, head, spec, params, {
        withLoss: true,
        adapterDropout: true,
        backboneDropout: o.backboneDropout ?? true,
        seed: dropoutSeed,
        lambda,
        mu,
      }),
    feeds: (idx) => assembleGroups(train, idx, spec.n, { training: true }),
    report: (r, idx) => ({
      loss: float32(r.loss)[0],
      examples: idx.length,
      correct: countCorrect(
        float32(r.logits),
        idx.map((ex) => train.labels[ex]),
      ),
      parts: { ce: float32(r.ce)[0], nce: float32(r.nce)[0], map: float32(r.map)[0] },
    }),
    lr: () => lr,
    maxGradNorm: o.maxGradNorm ?? 0,
    evalEvery,
    keep: 'best',
    async evaluate(t) {
      const ev = await evaluatePairings(model, head, spec, params, dev, {
        pairings: o.selectPairings ?? 1,
        seed: 4141,
        quiet: true,
      });
      lastSelection = ev;
      const row = {
        epoch: t.epoch + 1,
        loss: t.loss,
        ce: t.parts.ce,
        nce: t.parts.nce,
        map: t.parts.map,
        train_acc: t.accuracy,
        dev_acc: ev.mean,
      };
      const line =
        `loss ${t.loss.toFixed(4)} (ce ${t.parts.ce.toFixed(4)}, nce ${t.parts.nce.toFixed(4)}, map ` +
        `${t.parts.map.toFixed(4)}), train acc ${t.accuracy.toFixed(4)}, dev acc ${ev.mean.toFixed(4)} (SISO ` +
        `${sisoDev.toFixed(4)})`;
      return { metric: ev.mean, row, line };
    },
    save: (metric, step) =>
      saveAdapter(
        o.out,
        config({
          selection_dev_accuracy: metric,
          selection_pairings: lastSelection?.pairings,
          siso_dev_accuracy: sisoDev,
          step,
        }),
        params,
      ),
    progressFields: (t) => ({
      loss: t.loss,
      ce: t.parts.ce,
      acc: t.accuracy,
      'ex/s': (t.examples * 1000) / Math.max(1, t.ms),
    }),
    log,
    quiet: o.quiet,
    abortAfterSteps: o.abortAfterSteps,
    patience: o.patience,
  });
  if (loop.aborted) {
    return {
      bestDevAccuracy: state.best?.metric ?? NaN,
      bestStep: state.best?.step ?? 0,
      steps: state.step,
      epochsTrained: state.step / stepsPerEpoch,
      sisoDevAccuracy: sisoDev,
      history: state.history,
      seconds: (Date.now() - t0) / 1000,
      loopSeconds: state.loopSeconds ?? NaN,
      trainExamplesPerSecond: 0,
      features,
    };
  }
  const result = {
    bestDevAccuracy: state.best?.metric ?? NaN,
    bestStep: state.best?.step ?? 0,
    steps: state.step,
    epochsTrained: state.step / stepsPerEpoch,
    sisoDevAccuracy: sisoDev,
    history: state.history,
    seconds: (Date.now() - t0) / 1000,
    loopSeconds: state.loopSeconds ?? NaN,
    trainExamplesPerSecond: loop.trainMs ? (loop.trainExamples * 1000) / loop.trainMs : 0,
  };
  fs.mkdirSync(o.out, { recursive: true });
  writeTextAtomic(path.join(o.out, 'train.json'), JSON.stringify({ ...result, options: meta }, null, 2) + '\n');
  return { ...result, features };
}
