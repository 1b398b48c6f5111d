// The one training loop of revmux: adapters (`revmux train`), SISO fine-tuning (`revmux finetune`),
// whole-model multiplexing (DataMUX / MUX-PLM) and pretraining all run through `runLoop`, each plugging
// in its objective as a `TrainingRun`. Read top to bottom, a step is:
//   1. at the start of a segment, compile the training graph with that segment's dropout seed;
//   2. run it on the batch's feeds, clip the gradients, take an optimiser step;
//   3. every `evalEvery` steps (and after the last), evaluate, keep the best (or last) model, checkpoint,
//      and start a new segment.
// Resume is exact at checkpoints: batch order comes from (seed, epoch), the position in the epoch is in
// the checkpoint, and each segment's dropout seed is (seed, first step of the segment).
import type { Graph } from '../engine/graph.js';
import { type Optimizer, clipGlobalNorm } from '../engine/optim.js';
import type { ParamSet } from '../engine/params.js';
import { type HostTensor, type Session, compile } from '../engine/runtime.js';
import type { CheckpointDir, LoopState } from './checkpoint.js';
import { Progress, type ProgressFields } from './progress.js';

/** What one training step reports back, beyond the gradients. */
export interface StepReport {
  loss: number;
  /** Examples (or sequences) in the batch: the weight of its loss in the running mean. */
  examples: number;
  /** Correct predictions in the batch, where the objective classifies. */
  correct?: number;
  /** Named loss terms (CE, InfoNCE, ...), as batch means. */
  parts?: Record<string, number>;
}

/** Running means since the last checkpoint, handed to `evaluate` and the progress line. */
export interface TrainStats {
  epoch: number;
  loss: number;
  accuracy: number;
  parts: Record<string, number>;
  examples: number;
  /** Milliseconds spent in training steps in this segment. */
  ms: number;
}

export interface TrainingRun<B> {
  /** Progress-line label. */
  label: string;
  params: ParamSet;
  optimizer: Optimizer;
  ckpt: CheckpointDir;
  /** Where the loop starts: fresh or resumed (startOrResume). */
  state: LoopState;
  /** Base of the per-segment dropout seeds. */
  seed: number;
  /** Passes over the data; Infinity when `done` ends the run (time budgets). */
  epochs: number;
  /** Steps in the whole run if known (progress bar). */
  totalSteps?: number;
  /** The batches of an epoch, from batch `resumeAt` on (0 unless resuming inside that epoch). */
  batches(epoch: number, resumeAt: number): Iterable<B> | AsyncIterable<B>;
  trainGraph(dropoutSeed: number): Graph;
  /** Names the training graph a step needs, where it changes within a run (MUX-PLM: retrieval, then MLM). */
  graphKey?(step: number): string;
  feeds(batch: B, step: number): Record<string, HostTensor>;
  /** Reads loss, counts and loss terms off the outputs of the step. */
  report(outputs: Record<string, HostTensor>, batch: B): StepReport;
  /** Learning rate of the step about to be taken. */
  lr(step: number): number;
  /** 0: no clipping. */
  maxGradNorm: number;
  evalEvery: number;
  /** Ends the run early (a time budget spent); checked after every step. */
  done?(): boolean;
  /** Early stopping: end the run after this many checkpoints in a row without a better metric. */
  patience?: number;
  /** Evaluates at a checkpoint: the metric that picks the kept model, the history row and the log line. */
  evaluate(train: TrainStats): Promise<{ metric: number; row: Record<string, number>; line: string }>;
  /** Which model is written at a checkpoint: the best by metric so far, or always the latest. */
  keep: 'best' | 'last';
  save(metric: number, step: number): void;
  /** Called after each step with its wall time (budget accounting). */
  afterStep?(ms: number, report: StepReport): void;
  progressFields?(train: TrainStats): ProgressFields;
  log: (line: string) => void;
  quiet?: boolean;
  /** Stop right after the checkpoint at this step, as an interruption would (tests of resume). */
  abortAfterSteps?: number;
}

export interface LoopResult {
  aborted: boolean;
  /** Milliseconds in training steps and examples trained, over this process's part of the run. */
  trainMs: number;
  trainExamples: number;
}

/** Consecutive slices of `order` of `size` items (the last may be shorter), from slice `from` on. */
export function* sequentialSlices(order: readonly number[], size: number, from = 0): Generator<number[]> {
  for (let s = from * size; s < order.length; s += size) yield order.slice(s, s + size);
}

/** Correct predictions of two-class logits [B, 2] against labels. */
export function countCorrect(logits: Float32Array, labels: readonly number[]): number {
  return labels.reduce((n, y, i) => n + ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === y ? 1 : 0), 0);
}

export async function runLoop<B>(run: TrainingRun<B>): Promise<LoopResult> {
  const { state, params, optimizer } = run;
  const progress = new Progress(run.label, run.totalSteps ?? 0, run.quiet);
  let session: Session | null = null;
  let sessionKey = '';
  let stats = { lossSum: 0, correct: 0, examples: 0, parts: {} as Record<string, number>, ms: 0, start: Date.now() };
  let trainMs = 0;
  let trainExamples = 0;
  let evaluatedAt = -1;
  // checkpoints in a row without improvement, recounted from the history on resume
  let stale = 0;
  for (const row of state.history) stale = state.best && row.step > state.best.step ? stale + 1 : 0;
  const view = (epoch: number): TrainStats => {
    const n = Math.max(1, stats.examples);
    const parts = Object.fromEntries(Object.entries(stats.parts).map(([k, v]) => [k, v / n]));
    return {
      epoch,
      loss: stats.lossSum / n,
      accuracy: stats.correct / n,
      parts,
      examples: stats.examples,
      ms: Date.now() - stats.start,
    };
  };

  const checkpoint = async (epoch: number) => {
    const ev = await run.evaluate(view(epoch));
    state.history.push({ step: state.step, ...ev.row });
    const improved = !state.best || ev.metric > state.best.metric;
    if (improved) state.best = { metric: ev.metric, step: state.step };
    stale = improved ? 0 : stale + 1;
    if (improved || run.keep === 'last') run.save(ev.metric, state.step);
    run.log(`step ${state.step}: ${ev.line}${improved && run.keep === 'best' ? ' (best, saved)' : ''}`);
    state.loopSeconds = (state.loopSeconds ?? 0) + (Date.now() - stats.start) / 1000;
    run.ckpt.save(params, optimizer, state);
    session = null; // the next segment draws new dropout masks
    stats = { lossSum: 0, correct: 0, examples: 0, parts: {}, ms: 0, start: Date.now() };
    evaluatedAt = state.step;
  };

  const patient = () => run.patience === undefined || stale < run.patience;
  const finished = () => (run.done?.() ?? false) || !patient();
  outer: for (let epoch = state.epoch; epoch < run.epochs && !finished(); epoch++) {
    const resumeAt = epoch === state.epoch ? state.batchInEpoch : 0;
    let bi = resumeAt;
    for await (const batch of run.batches(epoch, resumeAt)) {
      const key = run.graphKey?.(state.step) ?? '';
      if (!session || key !== sessionKey) {
        session = await compile(run.trainGraph(run.seed * 100003 + state.step));
        sessionKey = key;
      }
      const t = Date.now();
      const outputs = await session.run({ ...params.feeds(), ...run.feeds(batch, state.step) });
      const grads = params.gradients(outputs);
      if (run.maxGradNorm > 0) clipGlobalNorm(grads.values(), run.maxGradNorm);
      optimizer.step(params, grads, run.lr(state.step));
      const ms = Date.now() - t;
      state.step++;
      state.epoch = epoch;
      state.batchInEpoch = ++bi;
      const r = run.report(outputs, batch);
      run.afterStep?.(ms, r);
      trainMs += ms;
      trainExamples += r.examples;
      stats.lossSum += r.loss * r.examples;
      stats.correct += r.correct ?? 0;
      stats.examples += r.examples;
      for (const [k, v] of Object.entries(r.parts ?? {})) stats.parts[k] = (stats.parts[k] ?? 0) + v * r.examples;
      progress.update(state.step, run.progressFields?.(view(epoch)) ?? { loss: stats.lossSum / stats.examples });

      const last = state.step === run.totalSteps || finished();
      if (state.step % run.evalEvery === 0 || last) {
        await checkpoint(epoch);
        if (run.abortAfterSteps !== undefined && state.step >= run.abortAfterSteps) {
          progress.stop();
          return { aborted: true, trainMs, trainExamples };
        }
      }
      if (finished()) break outer;
    }
    state.batchInEpoch = 0;
    state.epoch = epoch + 1;
  }
  progress.stop();
  if (evaluatedAt !== state.step && state.step > 0 && stats.examples > 0) await checkpoint(state.epoch);
  return { aborted: false, trainMs, trainExamples };
}
