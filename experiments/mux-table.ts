// npm run experiment:table -- --model DIR [--task sst2] [--l 1] [--n 2,4] [--variants vanilla,ora,revmux]
//   [--epochs 1] [--limit-train N] [--lr 1e-3] [--out runs/table]
// The README's results table: SISO and every variant x N on one frozen backbone, with identical
// budgets. Prefill features are computed once and shared; each adapter is picked by dev accuracy
// on 1 pairing during training, then scored with the full protocol (10 seeded pairings).
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, parseTask } from '../src/data/glue.js';
import { evaluatePairings } from '../src/eval/pairing.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { loadModel } from '../src/models/load.js';
import { loadAdapter, specOf } from '../src/mux/adapter.js';
import { type MuxVariant, adapterSize } from '../src/mux/spec.js';
import { prepareFeatures, taskHead } from '../src/mux/task-features.js';
import { trainMux } from '../src/train/mux-train.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';

const { values: opts } = scriptArgs(
  'npm run experiment:table -- --model DIR [--task sst2] [--l 1] [--n 2,4] [--variants vanilla,ora,revmux] ' +
    '[--epochs 1] [--limit-train N] [--lr 1e-3] [--out runs/table] [--data DIR]',
  {
    model: undefined,
    task: 'sst2',
    l: '1',
    n: '2,4',
    variants: 'vanilla,ora,revmux',
    epochs: '1',
    lr: '1e-3',
    'limit-train': undefined,
    out: 'runs/table',
    data: undefined,
  },
);
const modelDir = opts.model;
if (!modelDir) throw new Error('--model DIR is required');
const task = parseTask(opts.task);
const l = numberArg('l', opts.l);
const ns = opts.n.split(',').map((n) => numberArg('n', n));
const variants = opts.variants.split(',') as MuxVariant[];
const epochs = numberArg('epochs', opts.epochs);
const lr = numberArg('lr', opts.lr);
const limitTrain = opts['limit-train'] === undefined ? undefined : numberArg('limit-train', opts['limit-train']);
const out = opts.out;
const dataDir = findGlueDir(opts.data);

const t0 = Date.now();
const model = loadModel(modelDir);
const features = await prepareFeatures(model, { model: modelDir, task, dataDir, l, maxLength: 128, limitTrain });
const { head } = taskHead(model, modelDir, task);
const rows: Record<string, unknown>[] = [];
for (const n of ns)
  for (const variant of variants) {
    const dir = path.join(out, `${variant}-n${n}-l${l}`);
    const tTrain = Date.now();
    const r = await trainMux({
      model: modelDir,
      task,
      dataDir,
      out: dir,
      variant,
      n,
      l,
      epochs,
      lr,
      limitTrain,
      seed: 42,
      features,
      evalEvery: Math.ceil(features.train.count / 32 / 4),
      fresh: true,
    });
    const trainSeconds = (Date.now() - tTrain) / 1000;
    const { config, params } = loadAdapter(dir);
    const ev = await evaluatePairings(model, head, specOf(config), params, features.dev, { pairings: 10, seed: 4141 });
    rows.push({
      adapter_parameters: adapterSize(specOf(config)),
      train_seconds: trainSeconds,
      train_examples_per_s: r.trainExamplesPerSecond,
      selected_step: r.bestStep,
      ...ev,
    });
    console.error(
      `${variant} N=${n}: ${(100 * ev.mean).toFixed(2)} ± ${(100 * ev.std).toFixed(2)} ` +
        `(SISO ${(100 * ev.siso_accuracy).toFixed(2)})`,
    );
  }
const siso = features.dev.count ? (rows[0] as { siso_accuracy: number }).siso_accuracy : NaN;
const pct = (x: number) => (100 * x).toFixed(2);
const md = [
  `Frozen backbone: ${modelDir} (${model.numLayers} layers, d = ${model.hiddenSize}); ` +
    `${task} dev, ${features.dev.count} examples; training: ${features.train.count} examples, ${epochs} epoch(s), ` +
    `lr ${lr}, batch 32, l = ${l}; accuracy over 10 random pairings (seed 4141)`,
  '',
  '| model | N | trainable params | dev accuracy (mean ± std) | pairing sensitivity | agrees with SISO |',
  '| --- | --- | --- | --- | --- | --- |',
  `| SISO backbone | 1 | (frozen) | ${pct(siso)} | 0 | 100 |`,
  ...rows.map(
    (r: any) =>
      `| ${r.variant} | ${r.n} | ${(r.adapter_parameters / 1e6).toFixed(2)}M | ${pct(r.mean)} ± ${pct(r.std)} | ` +
      `${pct(r.pairing_sensitivity)} | ${pct(r.agreement_with_siso)} |`,
  ),
].join('\n');
fs.mkdirSync(out, { recursive: true });
writeTextAtomic(path.join(out, 'table.md'), md + '\n');
writeTextAtomic(
  path.join(out, 'table.json'),
  JSON.stringify(
    {
      model: modelDir,
      task,
      l,
      epochs,
      lr,
      train_examples: features.train.count,
      dev_examples: features.dev.count,
      siso_accuracy: siso,
      rows,
      seconds: (Date.now() - t0) / 1000,
    },
    null,
    2,
  ) + '\n',
);
console.log(md);
