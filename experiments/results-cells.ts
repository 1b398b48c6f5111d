// The results matrix's cell files (one JSON per cell, written by experiments/matrix.ts) and their
// aggregation over seeds, for the results page and its charts.
import fs from 'node:fs';
import path from 'node:path';
import { type PairingResult, meanStd } from '../src/eval/pairing.js';
import { type CellMethod, type CellRecipe, SUPERSEDED, isWholeModel, recipeDiff } from './matrix-grid.js';

/** A cell's file; its training recipe (older cells lack parts of it): seeds of one row must share it. */
export interface CellRecord extends Partial<CellRecipe> {
  cell: string;
  grid: string;
  backbone: string;
  /** The weights of the task's frozen backbone the cell ran on: one table, one backbone. */
  backbone_sha256: string;
  /** MUX-PLM cells: the weights of their multiplexed-pretrained start folder. */
  start_model_sha256?: string;
  backbone_dir?: string;
  backbone_layers: number;
  /** model_type of the frozen backbone (cells written before it was recorded are BERTs). */
  backbone_type?: string;
  backbone_hidden: number;
  task: string;
  variant: string;
  n: number;
  l: number;
  seed: number;
  /** Trainable weights (adapter cells written before the whole-model cells call it adapter_parameters). */
  trainable_parameters?: number;
  adapter_parameters?: number;
  epochs_trained: number;
  best_epoch: number;
  train_seconds: number;
  evaluation: Pick<
    PairingResult,
    'mean' | 'std' | 'siso_accuracy' | 'pairing_sensitivity' | 'agreement_with_siso' | 'slot_accuracy'
  >;
}

/** Every cell file under `dir`, leaving out speed measurements and superseded cells. */
export function cellFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? e.name === 'speed' || e.name === SUPERSEDED
          ? []
          : cellFiles(path.join(dir, e.name))
        : e.name.endsWith('.json')
          ? [path.join(dir, e.name)]
          : [],
    );
}

const mean = (xs: number[]) => meanStd(xs).mean;
/** Sample standard deviation; NaN for one value (the page leaves "± seeds" empty then). */
const sd = (xs: number[]) => (xs.length > 1 ? meanStd(xs).std : NaN);

export interface Agg {
  variant: string;
  n: number;
  l: number;
  /** The learning rate the seeds trained at (absent from the earliest cells). */
  lr?: number;
  seeds: number;
  acc: number;
  seedSd: number;
  pairingSd: number;
  siso: number;
  slots: number[];
  sensitivity: number;
  agreement: number;
  params: number;
  epochs: number;
  bestEpoch: number;
  seconds: number;
}

/**
 * The l of a task's main table: where most adapter cells ran (a prefill sweep's other l hold one seed of one or two N,
 * as may some rows at the main l, so rows alone do not tell). Whole-model cells (l = 0) decide only if alone.
 */
export function mainPrefill(cells: readonly CellRecord[]): number {
  const adapters = cells.filter((r) => !isWholeModel(r.variant as CellMethod));
  const byL = [...groupBy(adapters.length ? adapters : cells, (r) => String(r.l)).values()];
  return byL.sort((a, b) => b.length - a.length)[0][0].l;
}

/** One row of a table: the seeds of one (variant, N, l), which must have trained by one recipe from one start. */
export function aggregate(cells: CellRecord[]): Agg {
  for (const c of cells) {
    if (c.start_model_sha256 !== cells[0].start_model_sha256)
      throw new Error(
        `${cells[0].cell} and ${c.cell} started from different weights (start_model_sha256 ` +
          `${cells[0].start_model_sha256?.slice(0, 12)} and ${c.start_model_sha256?.slice(0, 12)}): a MUX-PLM ` +
          'folder pretrained again makes its older cells stale; run npm run experiment:matrix',
      );
    const diff = recipeDiff(cells[0], c, c.variant as CellMethod);
    if (diff.length)
      throw new Error(
        `${cells[0].cell} and ${c.cell} trained by different recipes (` +
          `${diff.map((k) => `${k} ${cells[0][k]} and ${c[k]}`).join(', ')}): run npm run experiment:matrix, ` +
          'which moves the stale one aside',
      );
  }
  const e = cells.map((c) => c.evaluation);
  return {
    variant: cells[0].variant,
    n: cells[0].n,
    l: cells[0].l,
    lr: cells[0].lr,
    seeds: cells.length,
    acc: mean(e.map((x) => x.mean)),
    seedSd: sd(e.map((x) => x.mean)),
    pairingSd: mean(e.map((x) => x.std)),
    siso: e[0].siso_accuracy,
    slots: e[0].slot_accuracy.map((_, i) => mean(e.map((x) => x.slot_accuracy[i]))),
    sensitivity: mean(e.map((x) => x.pairing_sensitivity)),
    agreement: mean(e.map((x) => x.agreement_with_siso)),
    params: cells[0].trainable_parameters ?? cells[0].adapter_parameters ?? NaN,
    epochs: mean(cells.map((c) => c.epochs_trained)),
    bestEpoch: mean(cells.map((c) => c.best_epoch)),
    seconds: mean(cells.map((c) => c.train_seconds)),
  };
}

/**
 * Rows of one (variant, N, l) trained at several learning rates (a grid's groups may set their own): the most
 * accurate stands for the method in the tables and claims, so each method is compared at the best rate tried for it;
 * `tried` lists every such set of rows, best first.
 */
export function bestLearningRate(rows: readonly Agg[]): { best: Agg[]; tried: Agg[][] } {
  const sets = [...groupBy(rows, (a) => `${a.variant}|${a.n}|${a.l}`).values()].map((s) =>
    [...s].sort((a, b) => b.acc - a.acc),
  );
  return { best: sets.map((s) => s[0]), tried: sets.filter((s) => s.length > 1) };
}

export type Verdict = 'holds' | 'within the spread' | 'does not hold';

/** The larger of the pairing and seed spreads of two cells: a difference within it says nothing. */
export const spread = (a: Agg, b: Agg) =>
  Math.max(a.pairingSd, b.pairingSd, Number.isNaN(a.seedSd) ? 0 : a.seedSd, Number.isNaN(b.seedSd) ? 0 : b.seedSd);
/** "a ≥ b" from their difference and the spread: holds beyond it, within it, or does not hold beyond it. */
export const verdictOf = (diff: number, noise: number): Verdict =>
  diff >= noise ? 'holds' : diff >= -noise ? 'within the spread' : 'does not hold';

/**
 * "More prefill layers keep more accuracy" over one N's sweep, in order of l: no step may drop beyond the spread
 * of its two cells, and the most prefilled cell must beat the least beyond theirs for the claim to hold.
 */
export function prefillVerdict(sweep: readonly Agg[]): Verdict {
  if (sweep.some((a, i) => i > 0 && a.acc < sweep[i - 1].acc - spread(a, sweep[i - 1]))) return 'does not hold';
  const [fewest, most] = [sweep[0], sweep[sweep.length - 1]];
  return verdictOf(most.acc - fewest.acc, spread(most, fewest));
}

export function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}
