// npm run experiment:matrix -- --grid experiments/grids/NAME.json [--only SUBSTRING] [--dry-run | --retire-stale]
// The paper's tables at our scale, as a resumable grid of cells (issue #13). Each cell trains one
// adapter on a frozen, task-fine-tuned backbone, or a whole-model baseline (DataMUX, MUX-PLM), until dev
// accuracy stops improving (patience, with an epoch cap), scores it over 10 seeded pairings and writes
// one JSON under results/matrix/<grid>/.
// A cell whose JSON exists is skipped unless its weights (backbone folder, MUX-PLM start) or the grid's
// recipe for it (lr, epoch cap, patience, max length) changed (an adapter cell that patience stopped before
// both caps stands: see recipeDiff): then its JSON moves to results/matrix/<grid>/superseded/ and it runs
// again (--retire-stale: only moves, runs nothing). An interrupted cell resumes from its training state in
// runs/matrix/. Runners may work side by side on one grid (one per core): each cell is locked while it runs.
// docs/results.md is rendered from the JSON files alone (npm run experiment:results).
//
// Speed is not measured here: cells train while other jobs may hold the cores. The speed-ups the
// results page shows come from `revmux bench` runs on free cores (results/matrix/<grid>/speed/).
import fs from 'node:fs';
import path from 'node:path';
import type { FullMuxMethod } from '../src/baselines/methods.js';
import { allParams, loadFullMux } from '../src/baselines/full-model.js';
import { type Task, findGlueDir, loadExamples } from '../src/data/glue.js';
import { evaluateFullMux } from '../src/eval/full-mux.js';
import { evaluatePairings } from '../src/eval/pairing.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import type { Backbone } from '../src/models/backbone.js';
import { weightFilesHash, weightsHash } from '../src/models/hash.js';
import { loadModel } from '../src/models/load.js';
import { loadAdapter, specOf } from '../src/mux/adapter.js';
import type { Features } from '../src/mux/features.js';
import { adapterSize } from '../src/mux/spec.js';
import { prepareDevFeatures, prepareFeatures, taskHead } from '../src/mux/task-features.js';
import type { MuxVariant } from '../src/mux/variants.js';
import { finetuneFullMux } from '../src/train/full-mux-train.js';
import { trainMux } from '../src/train/mux-train.js';
import { scriptArgs } from '../src/cli/script-args.js';
import { claimCell } from './cell-lock.js';
import {
  type Cell,
  cellFile,
  cellKey,
  cellsOf,
  isWholeModel,
  maxLengthOf,
  readGrid,
  type CellRecipe,
  type RunRecipe,
  recipeDiff,
  supersededFile,
} from './matrix-grid.js';

// strict: a mistyped flag (or --help) must not start hours of training on the whole grid
const { values: opts } = scriptArgs(
  'npm run experiment:matrix -- --grid experiments/grids/NAME.json [--only SUBSTRING] [--dry-run | --retire-stale] ' +
    '[--data DIR]',
  { grid: undefined, only: undefined, 'dry-run': false, 'retire-stale': false, data: undefined },
);
const gridFile = opts.grid;
if (!gridFile) throw new Error('--grid FILE is required (see experiments/grids/)');
const grid = readGrid(gridFile);
const only = opts.only;
const cells = cellsOf(grid).filter((c) => !only || cellKey(c).includes(only));
const dirOf = (c: Cell) => grid.backbones[c.backbone][c.task]!;
const models = new Map<string, { model: Backbone; hash: string }>();
function backbone(dir: string) {
  if (!models.has(dir)) {
    if (!fs.existsSync(dir))
      throw new Error(
        `${gridFile}: backbone folder ${dir} does not exist (create it, or choose other cells with --only)`,
      );
    const model = loadModel(dir);
    models.set(dir, { model, hash: weightsHash(model.weights) });
  }
  return models.get(dir)!;
}

// A cell counts as done only on the weights it was run on: a backbone folder re-created by a new fine-tune
// (or edited in place), or a MUX-PLM start folder pretrained again, makes its old cells stale; they run again.
interface CellWeights {
  backbone_sha256: string;
  /** MUX-PLM cells: their multiplexed-pretrained start folder, as stored. */
  start_model_sha256?: string;
}
const muxplmStart = (c: Cell) => grid.whole_model!.muxplm![c.n];
const startHashes = new Map<string, string>(); // one read of each MUX-PLM folder per process, as for backbones
function weightsOf(c: Cell): CellWeights {
  const w = { backbone_sha256: backbone(dirOf(c)).hash };
  if (c.variant !== 'muxplm') return w;
  const start = muxplmStart(c);
  if (!startHashes.has(start)) {
    if (!fs.existsSync(start))
      throw new Error(`${gridFile}: MUX-PLM folder ${start} does not exist (revmux pretrain --mux)`);
    startHashes.set(start, weightFilesHash(start));
  }
  return { ...w, start_model_sha256: startHashes.get(start) };
}

/** The recipe the grid gives a cell now. */
function recipeOf(c: Cell): Required<CellRecipe> {
  const whole = isWholeModel(c.variant) ? grid.whole_model! : undefined;
  return {
    lr: whole ? whole.lr : (c.lr ?? grid.train.lr),
    max_epochs: whole ? whole.max_epochs : grid.train.max_epochs,
    patience: whole ? (whole.patience ?? null) : grid.train.patience,
    max_length: maxLengthOf(grid, c.task),
  };
}
const recorded = (c: Cell) => JSON.parse(fs.readFileSync(cellFile(c), 'utf8')) as CellWeights & RunRecipe;
const short = (w: CellWeights) =>
  [w.backbone_sha256, w.start_model_sha256]
    .filter(Boolean)
    .map((h) => h!.slice(0, 12))
    .join('-');
const sameWeights = (a: CellWeights, b: CellWeights) =>
  a.backbone_sha256 === b.backbone_sha256 && a.start_model_sha256 === b.start_model_sha256;
/** A done cell that no longer stands: what it recorded, and whether its weights or which settings changed. */
interface Stale {
  was: CellWeights & RunRecipe;
  newWeights: boolean;
  changed: (keyof CellRecipe)[];
}
function staleness(c: Cell): Stale | undefined {
  if (!fs.existsSync(cellFile(c))) return undefined;
  const was = recorded(c);
  const newWeights = !sameWeights(was, weightsOf(c));
  const changed = recipeDiff(was, recipeOf(c), c.variant);
  return newWeights || changed.length ? { was, newWeights, changed } : undefined;
}
const stale = new Map<Cell, Stale>();
for (const c of cells) {
  const s = staleness(c);
  if (s) stale.set(c, s);
}
const todo = cells.filter((c) => !fs.existsSync(cellFile(c)) || stale.has(c));
console.error(
  `${grid.name}: ${cells.length} cells, ${cells.length - todo.length} done, ${todo.length} to run` +
    (stale.size ? ` (${stale.size} of them stale: run on other weights or settings than the grid's now)` : ''),
);
if (opts['dry-run']) {
  for (const c of todo) console.log(cellKey(c));
  process.exit(0);
}
// one table must not mix backbones: stale cells leave the rendered tree even before they run again
for (const [c, { was, newWeights, changed }] of stale) {
  // the weights' hash names the old evidence; a recipe change on the same weights adds what changed
  const old = [short(was), ...changed.map((k) => `${k}-${was[k]}`)].join('.');
  const to = supersededFile(c, old);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.renameSync(cellFile(c), to);
  // its training state, if any, belongs to the old weights too
  fs.rmSync(path.join('runs', 'matrix', grid.name, cellKey(c)), { recursive: true, force: true });
  const why = [
    ...(newWeights ? [`weights ${short(was)}, now ${short(weightsOf(c))}`] : []),
    ...changed.map((k) => `${k} ${was[k]}, now ${recipeOf(c)[k]}`),
  ];
  console.error(`${cellKey(c)}: stale (${why.join('; ')}), moved to ${to}`);
}
if (opts['retire-stale']) process.exit(0);
const dataDir = findGlueDir(opts.data);
const features = new Map<string, { train: Features; dev: Features }>();
const devOnly = new Map<string, Features>();
const common = (task: Task) => ({
  maxLength: maxLengthOf(grid, task),
  limitTrain: grid.train.limit_train,
  limitDev: grid.train.limit_dev,
});

/** An adapter on the frozen backbone, trained until dev accuracy stops improving. */
async function adapterCell(c: Cell & { variant: MuxVariant }, dir: string, model: Backbone, out: string) {
  const fkey = `${dir}|${c.l}`;
  if (!features.has(fkey)) {
    // one backbone's features in memory at a time
    for (const k of features.keys()) if (!k.startsWith(`${dir}|`)) features.delete(k);
    features.set(fkey, await prepareFeatures(model, { model: dir, task: c.task, dataDir, l: c.l, ...common(c.task) }));
  }
  const f = features.get(fkey)!;
  const stepsPerEpoch = Math.ceil(f.train.count / 32);
  const recipe = recipeOf(c); // trained by exactly the recipe the cell records
  const r = await trainMux({
    model: dir,
    task: c.task,
    dataDir,
    out,
    variant: c.variant,
    n: c.n,
    l: c.l,
    epochs: recipe.max_epochs,
    patience: recipe.patience ?? undefined,
    lr: recipe.lr,
    seed: c.seed,
    features: f,
    evalEvery: Math.max(1, Math.ceil(stepsPerEpoch / grid.train.evals_per_epoch)),
    quiet: true,
  });
  const { config, params } = loadAdapter(out);
  const { head } = taskHead(model, dir, c.task);
  const evaluation = await evaluatePairings(model, head, specOf(config), params, f.dev, {
    pairings: 10,
    seed: 4141,
    quiet: true,
  });
  return {
    train_examples: f.train.count,
    dev_examples: f.dev.count,
    trainable_parameters: adapterSize(specOf(config)),
    ...recipeOf(c),
    epochs_trained: r.epochsTrained,
    loop_seconds: r.loopSeconds,
    best_step: r.bestStep,
    best_epoch: r.bestStep / stepsPerEpoch,
    selection_dev_accuracy: r.bestDevAccuracy,
    history: r.history,
    evaluation,
  };
}

/** DataMUX (from the task's backbone) or MUX-PLM (from its multiplexed-pretrained folder): all weights trained. */
async function wholeModelCell(c: Cell & { variant: FullMuxMethod }, dir: string, model: Backbone, out: string) {
  const w = grid.whole_model!;
  if (!devOnly.has(dir))
    devOnly.set(dir, await prepareDevFeatures(model, { model: dir, task: c.task, dataDir, l: 0, ...common(c.task) }));
  const dev = devOnly.get(dir)!;
  const start = c.variant === 'muxplm' ? muxplmStart(c) : dir;
  const trainCount = Math.min(loadExamples(c.task, 'train', dataDir).length, grid.train.limit_train ?? Infinity);
  // about: batches are grouped by length
  const stepsPerEpoch = Math.floor(trainCount / Math.max(c.n, Math.floor(32 / c.n) * c.n));
  const r = await finetuneFullMux({
    method: c.variant,
    n: c.n,
    model: start,
    task: c.task,
    dataDir,
    out,
    epochs: w.max_epochs,
    patience: w.patience,
    lr: w.lr,
    seed: c.seed,
    evalEvery: Math.max(1, Math.ceil(stepsPerEpoch / w.evals_per_epoch)),
    ...common(c.task),
    quiet: true,
    log: () => {},
  });
  const evaluation = await evaluateFullMux(out, c.task, dataDir, dev, {
    pairings: 10,
    seed: 4141,
    quiet: true,
    limitDev: grid.train.limit_dev,
  });
  const trainable = allParams(loadFullMux(out).model).size();
  return {
    start_model: start,
    train_examples: trainCount,
    dev_examples: dev.count,
    trainable_parameters: trainable,
    ...recipeOf(c),
    epochs_trained: r.epochsTrained,
    loop_seconds: r.loopSeconds,
    best_step: r.bestStep,
    best_epoch: (r.bestStep / r.steps) * r.epochsTrained,
    selection_dev_accuracy: r.bestDevAccuracy,
    history: r.history,
    evaluation,
  };
}

for (const c of todo) {
  const out = path.join('runs', 'matrix', grid.name, cellKey(c));
  const claimed = claimCell(out);
  if ('holder' in claimed) {
    console.error(`${cellKey(c)}: skipped, process ${claimed.holder} is running it`);
    continue;
  }
  try {
    // another runner may have finished it since this one listed what to do
    if (!fs.existsSync(cellFile(c))) await runCell(c, out);
  } finally {
    claimed.release();
  }
}

async function runCell(c: Cell, out: string) {
  const dir = dirOf(c);
  const { model } = backbone(dir);
  const t0 = Date.now();
  const v = c.variant;
  const fields = isWholeModel(v)
    ? await wholeModelCell({ ...c, variant: v }, dir, model, out)
    : await adapterCell({ ...c, variant: v }, dir, model, out);
  // a resumed cell's own clock sees only its last part; the loop's sum covers every process that trained it
  const cellSeconds = (Date.now() - t0) / 1000;
  const trainSeconds = Number.isFinite(fields.loop_seconds) ? fields.loop_seconds : cellSeconds;
  const record = {
    cell: cellKey(c),
    ...c,
    backbone_dir: dir,
    ...weightsOf(c),
    backbone_type: model.modelType,
    backbone_layers: model.numLayers,
    backbone_hidden: model.hiddenSize,
    train_seconds: trainSeconds,
    cell_seconds: cellSeconds,
    ...fields,
  };
  writeTextAtomic(cellFile(c), JSON.stringify(record, null, 2) + '\n');
  const ev = fields.evaluation;
  console.error(
    `${cellKey(c)}: ${(100 * ev.mean).toFixed(2)} ± ${(100 * ev.std).toFixed(2)} ` +
      `(SISO ${(100 * ev.siso_accuracy).toFixed(2)}), ${fields.epochs_trained.toFixed(2)} epochs, ` +
      `${trainSeconds.toFixed(0)} s`,
  );
}
