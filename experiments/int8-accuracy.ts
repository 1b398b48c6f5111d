// npm run experiment:int8-accuracy -- --model DIR --task T [--adapter DIR...] [--out results/int8/accuracy-T.json]
// Accuracy with the frozen backbone in fp32 and in int8 (issue #14): SISO, and each adapter over the same
// 10 seeded pairings in both precisions, so the difference is the quantization alone. An adapter trained
// on the int8 backbone (`revmux train --precision int8`) is scored the same way: its config says so.
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, parseTask } from '../src/data/glue.js';
import { evaluatePairings } from '../src/eval/pairing.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { weightsHash } from '../src/models/hash.js';
import { loadModel } from '../src/models/load.js';
import { checkAdapterFits, loadAdapter, specOf } from '../src/mux/adapter.js';
import { sisoAccuracy } from '../src/mux/features.js';
import type { Precision } from '../src/nn/precision.js';
import { prepareDevFeatures, taskHead } from '../src/mux/task-features.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';

// `--adapter A B C`: the folders after the first come as positionals
const { values: opts, positionals } = scriptArgs(
  'npm run experiment:int8-accuracy -- --model DIR --task T [--adapter DIR...] [--out FILE] [--data DIR]',
  { model: undefined, task: undefined, adapter: [], out: undefined, data: undefined },
  { positionals: true },
);
const modelDir = opts.model;
const taskName = opts.task;
if (!modelDir || !taskName) throw new Error('--model DIR and --task T are required');
const task = parseTask(taskName);
const adapterDirs = [...opts.adapter, ...positionals];
const outFile = opts.out ?? `results/int8/accuracy-${task}.json`;
const dataDir = findGlueDir(opts.data);
const pct = (x: number) => Math.round(10000 * x) / 100;

const sisoBy: Record<Precision, number> = { fp32: 0, int8: 0 };
const rows: Record<string, unknown>[] = [];
const scores: Record<Precision, Map<string, { mean: number; std: number; siso: number }>> = {
  fp32: new Map(),
  int8: new Map(),
};
for (const precision of ['fp32', 'int8'] as Precision[]) {
  const model = loadModel(modelDir, { precision });
  const hash = weightsHash(model.weights);
  const { head } = taskHead(model, modelDir, task);
  const adapters = adapterDirs.map((dir) => ({ dir, ...loadAdapter(dir) }));
  for (const a of adapters) checkAdapterFits(a.config, model, {}, a.dir, hash);
  const ls = [...new Set(adapters.map((a) => a.config.l))];
  let siso = 0;
  for (const l of ls.length ? ls : [0]) {
    const dev = await prepareDevFeatures(model, { model: modelDir, task, dataDir, l, quiet: true });
    siso = sisoAccuracy(dev);
    for (const a of adapters.filter((x) => x.config.l === l)) {
      const ev = await evaluatePairings(model, head, specOf(a.config), a.params, dev, {
        pairings: 10,
        seed: 4141,
        quiet: true,
      });
      scores[precision].set(a.dir, { mean: ev.mean, std: ev.std, siso: ev.siso_accuracy });
      console.error(`${precision}: ${a.dir} ${pct(ev.mean)} ± ${pct(ev.std)} (SISO ${pct(ev.siso_accuracy)})`);
    }
  }
  sisoBy[precision] = siso;
  console.error(`${precision}: SISO ${pct(siso)}`);
}
for (const dir of adapterDirs) {
  const a = loadAdapter(dir);
  const f = scores.fp32.get(dir)!;
  const q = scores.int8.get(dir)!;
  const trainedIn = String(a.config.training?.precision ?? 'fp32');
  rows.push({
    adapter: dir,
    variant: a.config.variant,
    n: a.config.n,
    l: a.config.l,
    trained_in: trainedIn,
    fp32: f.mean,
    fp32_std: f.std,
    int8: q.mean,
    int8_std: q.std,
  });
  console.log(
    `${path.basename(dir)} (trained on ${trainedIn}): fp32 ${pct(f.mean)} ± ${pct(f.std)}, ` +
      `int8 ${pct(q.mean)} ± ${pct(q.std)}, difference ${(100 * (q.mean - f.mean)).toFixed(2)}`,
  );
}
const result = {
  experiment: 'int8-accuracy',
  model: modelDir,
  task,
  pairings: 10,
  pairing_seed: 4141,
  siso: sisoBy,
  adapters: rows,
};
console.log(`${task} dev: SISO fp32 ${pct(sisoBy.fp32)}, int8 ${pct(sisoBy.int8)}`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
writeTextAtomic(outFile, JSON.stringify(result, null, 2) + '\n');
