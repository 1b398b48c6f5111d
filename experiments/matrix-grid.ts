// The experiment grid of issue #13: grid files (experiments/grids/*.json), their cells, and where each
// cell's evidence lives. Shared by the runner (matrix.ts) and the results page (results-page.ts).
import fs from 'node:fs';
import path from 'node:path';
import { parseTask, type Task } from '../src/data/glue.js';
import { FULL_MUX_METHODS, type FullMuxMethod, isFullMuxMethod } from '../src/baselines/methods.js';
import { MUX_VARIANTS, type MuxVariant } from '../src/mux/variants.js';

/** An adapter variant on the frozen backbone, or a whole-model baseline (all weights trained, l = 0). */
export type CellMethod = MuxVariant | FullMuxMethod;
export const isWholeModel = (m: CellMethod): m is FullMuxMethod => isFullMuxMethod(m);

/** A grid file: the frozen backbones (one fine-tuned folder per task) and groups of cells. */
export interface Grid {
  name: string;
  note?: string;
  backbones: Record<string, Partial<Record<Task, string>>>;
  /** Adapter training of every cell; limit_* take the first examples only (quick grids, tests). */
  train: {
    lr: number;
    max_epochs: number;
    patience: number;
    evals_per_epoch: number;
    /** Tokens per example (default 128): one number, or one per task (sentence pairs need more than SST-2). */
    max_length?: number | Partial<Record<Task, number>>;
    limit_train?: number;
    limit_dev?: number;
  };
  /**
   * Whole-model cells (DataMUX from each task's backbone folder; MUX-PLM from `muxplm[N]`, a folder of
   * `revmux pretrain --mux N`): up to `max_epochs`, ended by `patience` as the adapters (without it, every
   * epoch runs), the best dev checkpoint kept.
   */
  whole_model?: {
    lr: number;
    max_epochs: number;
    patience?: number;
    evals_per_epoch: number;
    muxplm?: Record<string, string>;
  };
  groups: {
    name: string;
    backbone: string;
    tasks: Task[];
    variants: CellMethod[];
    n: number[];
    l: number[];
    seeds: number[];
    /** Adapter cells only: a learning rate other than train.lr, so one grid can try several (keys end -lr<lr>). */
    lr?: number;
  }[];
}

export interface Cell {
  grid: string;
  group: string;
  backbone: string;
  task: Task;
  variant: CellMethod;
  n: number;
  l: number;
  seed: number;
  /** Set when the cell's group trains at a learning rate other than the grid's train.lr. */
  lr?: number;
}

/** The training settings a cell records: a grid edited since makes its cells stale, as new weights do. */
export interface CellRecipe {
  lr: number;
  max_epochs: number;
  patience: number | null;
  max_length?: number; // not recorded by the earliest cells: not compared there
}
/** A recipe as a done cell records it, with how far its run went (absent from the grid's recipe for it now). */
export type RunRecipe = Partial<CellRecipe> & { epochs_trained?: number };
const RECIPE_KEYS = ['lr', 'max_epochs', 'patience', 'max_length'] as const;

/**
 * Whether two epoch caps give the same run. Adapters train at a constant learning rate and draw each epoch's order
 * from the seed alone (test/mux/end-to-end.test.ts checks that a lower cap is the same run up to it), so a run that
 * patience stopped at a point both caps allow is the run of either cap; whole-model cells decay their learning
 * rate over the cap, so for them every cap is a run of its own.
 */
function sameCapRun(a: RunRecipe, b: RunRecipe, method: CellMethod): boolean {
  if (a.max_epochs === b.max_epochs) return true;
  if (isWholeModel(method) || a.max_epochs === undefined || b.max_epochs === undefined) return false;
  const lower = Math.min(a.max_epochs, b.max_epochs);
  const stoppedEarly = (r: RunRecipe) =>
    r.epochs_trained !== undefined && r.epochs_trained < r.max_epochs! && r.epochs_trained <= lower;
  return stoppedEarly(a) || stoppedEarly(b);
}

/** The settings two recipes of `method` both record and in which they make different runs. */
export const recipeDiff = (a: RunRecipe, b: RunRecipe, method: CellMethod) =>
  RECIPE_KEYS.filter(
    (k) =>
      a[k] !== undefined && b[k] !== undefined && a[k] !== b[k] && !(k === 'max_epochs' && sameCapRun(a, b, method)),
  );

export const cellKey = (c: Cell) =>
  `${c.backbone}/${c.task}/${c.variant}-n${c.n}-l${c.l}-s${c.seed}${c.lr === undefined ? '' : `-lr${c.lr}`}`;

export function readGrid(file: string): Grid {
  const g = JSON.parse(fs.readFileSync(file, 'utf8')) as Grid;
  const where = (s: string) => `${file}: ${s}`;
  if (!/^[\w.-]+$/.test(g.name ?? ''))
    throw new Error(where(`"name" must be a plain folder name, got ${JSON.stringify(g.name)}`));
  const m = g.train?.max_length;
  const lengths: [string, unknown][] = typeof m === 'object' ? Object.entries(m) : [['', m]];
  for (const [t, len] of lengths) {
    if (t) parseTask(t);
    if (len !== undefined && !(Number.isInteger(len) && Number(len) > 0))
      throw new Error(
        where(`train.max_length${t ? `.${t}` : ''} must be a positive integer, got ${JSON.stringify(len)}`),
      );
  }
  if (g.whole_model) checkWholeModel(g.whole_model, where);
  for (const grp of g.groups ?? []) {
    if (!g.backbones?.[grp.backbone])
      throw new Error(where(`group ${grp.name}: backbone "${grp.backbone}" is not in "backbones"`));
    for (const t of grp.tasks) {
      parseTask(t);
      if (!g.backbones[grp.backbone][t])
        throw new Error(where(`group ${grp.name}: backbone "${grp.backbone}" has no folder for task ${t}`));
    }
    if (grp.lr !== undefined && !(typeof grp.lr === 'number' && grp.lr > 0))
      throw new Error(where(`group ${grp.name}: "lr" must be a positive number, got ${JSON.stringify(grp.lr)}`));
    for (const v of grp.variants) {
      if (grp.lr !== undefined && isWholeModel(v))
        throw new Error(where(`group ${grp.name}: "lr" is for adapter cells; ${v} trains by whole_model.lr`));
      if (!MUX_VARIANTS.includes(v as MuxVariant) && !isWholeModel(v))
        throw new Error(
          where(
            `group ${grp.name}: unknown variant "${v}" (known: ${[...MUX_VARIANTS, ...FULL_MUX_METHODS].join(', ')})`,
          ),
        );
      if (!isWholeModel(v)) continue;
      if (grp.l.join() !== '0')
        throw new Error(where(`group ${grp.name}: ${v} multiplexes at the embeddings, so its "l" must be [0]`));
      if (!g.whole_model) throw new Error(where(`group ${grp.name}: ${v} cells need a "whole_model" training section`));
      for (const n of grp.n)
        if (v === 'muxplm' && !g.whole_model.muxplm?.[n])
          throw new Error(
            where(`group ${grp.name}: no whole_model.muxplm["${n}"] folder (revmux pretrain --mux ${n})`),
          );
    }
  }
  return g;
}

function checkWholeModel(w: NonNullable<Grid['whole_model']>, where: (s: string) => string) {
  // grids before early stopping had "epochs": refuse it rather than let a cap silently default
  if ('epochs' in w) throw new Error(where('whole_model.epochs is now "max_epochs" (with an optional "patience")'));
  const positive = (k: 'max_epochs' | 'patience' | 'evals_per_epoch', v: unknown) => {
    if (!(Number.isInteger(v) && Number(v) > 0))
      throw new Error(where(`whole_model.${k} must be a positive integer, got ${JSON.stringify(v)}`));
  };
  positive('max_epochs', w.max_epochs);
  positive('evals_per_epoch', w.evals_per_epoch);
  if (w.patience !== undefined) positive('patience', w.patience);
}

/** The max length a grid gives a task's examples. */
export function maxLengthOf(g: Grid, task: Task): number {
  const m = g.train.max_length;
  return (typeof m === 'object' ? m[task] : m) ?? 128;
}

export function cellsOf(g: Grid): Cell[] {
  const seen = new Set<string>();
  const out: Cell[] = [];
  for (const grp of g.groups)
    for (const task of grp.tasks)
      for (const n of grp.n)
        for (const l of grp.l)
          for (const variant of grp.variants)
            for (const seed of grp.seeds) {
              const c: Cell = { grid: g.name, group: grp.name, backbone: grp.backbone, task, variant, n, l, seed };
              if (grp.lr !== undefined && grp.lr !== g.train.lr) c.lr = grp.lr;
              if (seen.has(cellKey(c))) continue; // groups may overlap (the prefill sweep shares l = 1)
              seen.add(cellKey(c));
              out.push(c);
            }
  return out;
}

export const cellFile = (c: Cell) => path.join('results', 'matrix', c.grid, `${cellKey(c)}.json`);

/** Evidence of cells run on other weights than the grid's backbone has now: kept, never rendered. */
export const SUPERSEDED = 'superseded';
/** `weights`: short hashes of the weights the cell was run on, so each superseded version keeps its own file. */
export const supersededFile = (c: Cell, weights: string) =>
  path.join('results', 'matrix', c.grid, SUPERSEDED, `${cellKey(c)}.${weights}.json`);
