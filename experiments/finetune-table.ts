// npm run experiment:finetune-table -- "LABEL=runs/ft-{task}-NAME" ...
// The SISO fine-tuning table of issue #12: for each row, the `revmux finetune` runs of the four GLUE
// tasks (the pattern's {task} replaced by sst2, mrpc, rte, qnli). Each run's finetune.json is copied to
// results/finetune/<run>.json with the model's size and vocabulary; the table is printed from those.
import fs from 'node:fs';
import path from 'node:path';
import { writeTextAtomic } from '../src/io/safetensors.js';

const TASKS = ['sst2', 'mrpc', 'rte', 'qnli'];
const rows = process.argv.slice(2).map((a) => {
  const [label, pattern] = a.split('=');
  if (!label || !pattern?.includes('{task}'))
    throw new Error(`expected LABEL=PATTERN with {task}, got ${JSON.stringify(a)}`);
  return { label, pattern };
});
if (!rows.length) throw new Error('usage: experiment:finetune-table -- "LABEL=runs/ft-{task}-NAME" ...');

const cell = (dir: string): string => {
  const file = path.join(dir, 'finetune.json');
  if (!fs.existsSync(file)) return fs.existsSync(dir) ? 'unfinished' : 'not run';
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const record = { run: dir, model_type: config.model_type, vocab_size: config.vocab_size, ...r };
  writeTextAtomic(
    path.join('results', 'finetune', `${path.basename(dir)}.json`),
    JSON.stringify(record, null, 2) + '\n',
  );
  const epochs = r.history.at(-1)?.epoch ?? r.options.epochs;
  return `${(100 * r.bestDevAccuracy).toFixed(2)} (step ${r.bestStep.toLocaleString('en-US')} of ${r.steps.toLocaleString('en-US')}, ${epochs} ep.)`;
};

fs.mkdirSync(path.join('results', 'finetune'), { recursive: true });
console.log(`| backbone | ${TASKS.join(' | ')} |`);
console.log(`| --- | ${TASKS.map(() => '---').join(' | ')} |`);
for (const r of rows)
  console.log(`| ${r.label} | ${TASKS.map((t) => cell(r.pattern.replace('{task}', t))).join(' | ')} |`);
