// npm run experiment:finetune-table -- "LABEL=runs/ft-{task}-NAME" ...
// The SISO fine-tuning table of issue #12: for each row, the `revmux finetune` runs of the four GLUE
// tasks (the pattern's {task} replaced by sst2, mrpc, rte, qnli). Each run's finetune.json is copied to
// results/finetune/<run>.json with the model's size and vocabulary, and the saved folder is scored again on
// the dev set: the table shows that score, the accuracy of the weights anyone loads. (Until session 9 the
// T5 and LLaMA runs evaluated stale label-word rows, so their own reports differ from their saved weights.)
import fs from 'node:fs';
import path from 'node:path';
import { type Task, findGlueDir } from '../src/data/glue.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { weightsHash } from '../src/models/hash.js';
import { loadModel } from '../src/models/load.js';
import { sisoAccuracy } from '../src/mux/features.js';
import { prepareDevFeatures } from '../src/mux/task-features.js';

const TASKS: Task[] = ['sst2', 'mrpc', 'rte', 'qnli'];
const rows = process.argv.slice(2).map((a) => {
  const [label, pattern] = a.split('=');
  if (!label || !pattern?.includes('{task}'))
    throw new Error(`expected LABEL=PATTERN with {task}, got ${JSON.stringify(a)}`);
  return { label, pattern };
});
if (!rows.length) throw new Error('usage: experiment:finetune-table -- "LABEL=runs/ft-{task}-NAME" ...');
const dataDir = findGlueDir(undefined);
const pct = (x: number) => (100 * x).toFixed(2);

/** Dev accuracy of the folder's weights, re-measured only when they changed since the last record. */
async function savedAccuracy(dir: string, task: Task, maxLength: number, recordFile: string) {
  const model = loadModel(dir);
  const sha = weightsHash(model.weights);
  const old = fs.existsSync(recordFile) ? JSON.parse(fs.readFileSync(recordFile, 'utf8')) : {};
  if (old.weights_sha256 === sha && typeof old.saved_dev_accuracy === 'number')
    return { accuracy: old.saved_dev_accuracy as number, sha };
  const dev = await prepareDevFeatures(model, { model: dir, task, dataDir, l: 0, maxLength, quiet: true });
  return { accuracy: sisoAccuracy(dev), sha };
}

async function cell(dir: string, task: Task): Promise<string> {
  const file = path.join(dir, 'finetune.json');
  if (!fs.existsSync(file)) return fs.existsSync(dir) ? 'unfinished' : 'not run';
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const recordFile = path.join('results', 'finetune', `${path.basename(dir)}.json`);
  const { accuracy: saved, sha } = await savedAccuracy(dir, task, r.options.maxLength, recordFile);
  const record = {
    run: dir,
    model_type: config.model_type,
    vocab_size: config.vocab_size,
    saved_dev_accuracy: saved,
    weights_sha256: sha,
    ...r,
  };
  writeTextAtomic(recordFile, JSON.stringify(record, null, 2) + '\n');
  const epochs = r.history.at(-1)?.epoch ?? r.options.epochs;
  const reported = Math.abs(saved - r.bestDevAccuracy) > 1e-9 ? `; the run reported ${pct(r.bestDevAccuracy)}` : '';
  const steps = `step ${r.bestStep.toLocaleString('en-US')} of ${r.steps.toLocaleString('en-US')}, ${epochs} ep.`;
  return `${pct(saved)} (${steps}${reported})`;
}

fs.mkdirSync(path.join('results', 'finetune'), { recursive: true });
console.log(`| backbone | ${TASKS.join(' | ')} |`);
console.log(`| --- | ${TASKS.map(() => '---').join(' | ')} |`);
for (const r of rows) {
  const cells = [];
  for (const t of TASKS) cells.push(await cell(r.pattern.replace('{task}', t), t));
  console.log(`| ${r.label} | ${cells.join(' | ')} |`);
}
