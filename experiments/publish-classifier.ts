// npm run experiment:publish-classifier -- --run RUN_DIR --name NAME [--adapter DIR] [--note TEXT]
// Commits a classifier fine-tuned here (issues #12, #13): models/NAME/ gets the `revmux finetune` run's weights
// in float16 and a MODEL_CARD.md (base model, task, the exact command, the dev accuracy of these float16
// weights as `revmux eval` measures it). With --adapter, a RevMUX adapter trained on it is copied to
// models/NAME/revmux-n2/ and scored over the 10 pairings of `revmux eval`.
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, parseTask } from '../src/data/glue.js';
import { evaluatePairings, sisoAccuracy } from '../src/eval/pairing.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { loadAdapter, specOf } from '../src/mux/adapter.js';
import { prepareDevFeatures, taskHead } from '../src/mux/task-features.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { saveForCommit } from './committed-model.js';

const { values: opts } = scriptArgs(
  'npm run experiment:publish-classifier -- --run RUN_DIR --name NAME [--adapter DIR] [--note TEXT]',
  { run: undefined, name: undefined, adapter: undefined, note: undefined },
);
const run = opts.run;
const name = opts.name;
if (!run || !name) throw new Error('usage: --run RUN_DIR --name NAME [--adapter DIR]');
const file = path.join(run, 'finetune.json');
if (!fs.existsSync(file)) throw new Error(`${file}: missing; only a finished \`revmux finetune\` run can be published`);
const ft = JSON.parse(fs.readFileSync(file, 'utf8'));
const o = ft.options;
const task = parseTask(o.task);
const dataDir = findGlueDir();
const { out, model, bytes } = saveForCommit(run, name);
const dev = await prepareDevFeatures(model, { model: out, task, dataDir, l: 1 });
const accuracy = sisoAccuracy(dev);
const pct = (x: number) => (100 * x).toFixed(2);

let adapterLines: string[] = [];
let adapterResult = null;
const adapterSource = opts.adapter;
if (adapterSource) {
  const { config, params } = loadAdapter(adapterSource);
  const target = path.join(out, `${config.variant}-n${config.n}`);
  fs.mkdirSync(target, { recursive: true });
  fs.copyFileSync(path.join(adapterSource, 'adapter.safetensors'), path.join(target, 'adapter.safetensors'));
  // training.model was recorded as this machine's absolute path: a committed file names the repository's folder
  const committedConfig = { ...config, training: { ...config.training, model: out } };
  writeTextAtomic(path.join(target, 'adapter_config.json'), JSON.stringify(committedConfig, null, 2) + '\n');
  const { head } = taskHead(model, out, task);
  const l1 = await prepareDevFeatures(model, { model: out, task, dataDir, l: config.l });
  adapterResult = await evaluatePairings(model, head, specOf(config), params, l1, {
    pairings: 10,
    seed: 4141,
    quiet: true,
  });
  adapterLines = [
    '',
    `## ${config.variant} adapter, N = ${config.n}, l = ${config.l} (\`${path.basename(target)}/\`)`,
    '',
    `Trained on the frozen classifier \`${config.base_model?.source ?? run}\` by \`${adapterSource}\`.`,
    `On these weights, over 10 seeded pairings of the dev set:`,
    `**${pct(adapterResult.mean)} ± ${pct(adapterResult.std)}** (SISO ${pct(adapterResult.siso_accuracy)}). ` +
      'Reproduce (a test checks it within 0.1 point):',
    '',
    '```bash',
    `npx revmux eval --model ${out} --adapter ${target}`,
    '```',
  ];
}

/** `init:[arch-]size[:Llayers]`, as `revmux finetune` records a run from random weights, back into its options. */
function initOptions(model: string): string {
  const m = /^init:(?:(\w+)-)?(\w+)(?::L(\d+))?$/.exec(model);
  if (!m) throw new Error(`${file}: options.model ${JSON.stringify(model)} is not init:[arch-]size[:Llayers]`);
  if (!o.tokenizer) throw new Error(`${file}: a run from --init must record options.tokenizer to be published`);
  return [`--init ${m[2]}`, m[1] ? `--arch ${m[1]}` : '', m[3] ? `--layers ${m[3]}` : '', `--tokenizer ${o.tokenizer}`]
    .filter(Boolean)
    .join(' ');
}
const fromInit = String(o.model).startsWith('init:');
const command = [
  `REVMUX_THREADS=1 npx revmux finetune --task ${o.task}`,
  fromInit ? initOptions(String(o.model)) : `--model ${o.model}${o.tokenizer ? ` --tokenizer ${o.tokenizer}` : ''}`,
  `--out ${run} --epochs ${o.epochs} --batch-size ${o.batchSize} --lr ${o.lr} --max-length ${o.maxLength}`,
  `${o.evalEvery ? `--eval-every ${o.evalEvery} ` : ''}--seed ${o.seed}`,
].join(' ');
const card = [
  `# ${name}`,
  '',
  `\`${model.architectureName}\` fine-tuned on ${task.toUpperCase()} here with \`revmux finetune\``,
  `(all weights, best dev checkpoint), from ${fromInit ? 'random weights' : `\`${o.model}\``}.`,
  `Weights in float16 (${(bytes / 1024 ** 2).toFixed(1)} MB); revmux loads them as float32.`,
  ...(opts.note ? ['', opts.note!] : []),
  '',
  '## Fine-tuning',
  '',
  '```bash',
  command,
  '```',
  '',
  `${ft.steps.toLocaleString('en-US')} steps, best dev accuracy ${pct(ft.bestDevAccuracy)} ` +
    `at step ${ft.bestStep.toLocaleString('en-US')} (float32), ${(ft.seconds / 60).toFixed(0)} min.`,
  '',
  '## Dev accuracy of these float16 weights',
  '',
  `${task.toUpperCase()} dev, ${dev.count} examples: **${pct(accuracy)}**. ` +
    'Reproduce (a test checks it within 0.1 point):',
  '',
  '```bash',
  `npx revmux eval --model ${out} --task ${task}`,
  '```',
  ...adapterLines,
  '',
];
writeTextAtomic(path.join(out, 'MODEL_CARD.md'), card.join('\n'));
fs.mkdirSync(path.join('results', 'models'), { recursive: true });
const evidence = {
  name,
  run,
  task,
  finetune: ft,
  float16_dev_accuracy: accuracy,
  dev_examples: dev.count,
  adapter: adapterSource ?? null,
  adapter_evaluation: adapterResult,
  bytes,
};
writeTextAtomic(path.join('results', 'models', `${name}.json`), JSON.stringify(evidence, null, 2) + '\n');
console.log(`${out}: ${(bytes / 1024 ** 2).toFixed(1)} MB, ${task} dev accuracy ${pct(accuracy)}`);
