// npm run bench:memory -- [--preset base] [--seconds 10] [--clients 32] [--precision fp32,int8]
//   [--parts serve,transformersjs,train] [--serve-args=--no-prepack-weights --tag mapped]
// serve: memory of `revmux serve` at a real model size (random weights, bench/random-model.ts), each
// configuration its own process: SISO only; SISO + N = 2; SISO + N = 2, 4, 8; in each precision asked.
// Reports resident memory after start-up (and how long start-up took) and the peak under a short closed-loop
// load, each also as a multiple of the model's float32 weight bytes; transformersjs: its pipeline on the same
// weights. Both go to results/memory-<preset>.json (fp32 alone, else memory-<preset>-<precisions>.json).
// train: the peak memory of training a RevMUX N = 2 adapter on the committed SST-2 backbone
// (results/memory-adapter-training.json).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { exportModel } from '../src/export/onnx.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { closedLoop } from '../src/serve/loadtest.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { machine, report, round, table } from './lib.js';
import { adapterTrainingMemory } from './memory-train.js';
import { writeRandomServingModel } from './random-model.js';
import { memoryMb, startServe } from './serve-process.js';

const { values: opts } = scriptArgs(
  'npm run bench:memory -- [--preset base] [--seconds 10] [--clients 32] [--precision fp32,int8] ' +
    '[--parts serve,transformersjs,train] [--serve-args=--no-prepack-weights --tag mapped]',
  {
    preset: 'base',
    seconds: '10',
    clients: '32',
    precision: 'fp32',
    parts: 'serve,transformersjs,train',
    'serve-args': '', // extra `revmux serve` flags
    tag: undefined, // names the results file of a run with such flags
  },
);
const { preset } = opts;
const seconds = numberArg('seconds', opts.seconds);
const clients = numberArg('clients', opts.clients);
const precisions = opts.precision.split(',');
const parts = opts.parts.split(',');
const serveArgs = opts['serve-args'].split(' ').filter(Boolean);
const tag = opts.tag ?? (serveArgs.length ? 'custom' : '');

if (parts.includes('train')) {
  const backbone = 'models/bert-mini-wiki8k-nb-sst2';
  const train = await adapterTrainingMemory(backbone, [
    ...['--task', 'sst2', '--n', '2', '--l', '1', '--epochs', '1', '--limit-train', '4096', '--max-length', '64'],
  ]);
  report(
    `adapter training memory, ${backbone} (float32 weights ${train.weight_mb} MB)`,
    table(
      ['command', 'peak RSS MB', 'x weights', 'largest PSS sampled MB', 'seconds'],
      [[train.command, train.peak_rss_mb, train.peak_x_weights, train.max_pss_mb, train.seconds]],
    ),
    train,
  );
  writeTextAtomic(
    'results/memory-adapter-training.json',
    JSON.stringify({ benchmark: 'memory, adapter training', machine: machine(), ...train }, null, 2) + '\n',
  );
}
if (!parts.includes('serve') && !parts.includes('transformersjs')) process.exit(0);
const out = `runs/random-bert-${preset}`;
const { model, adapters } = writeRandomServingModel(out, { preset, ns: [2, 4, 8], l: 3 });
const weightMb = fs.statSync(path.join(model, 'model.safetensors')).size / 2 ** 20;
const texts = loadExamples('sst2', 'dev', findGlueDir()).map((e) => e.textA);
const configs = [
  { name: 'SISO', adapters: [] as string[] },
  { name: 'SISO + N=2', adapters: adapters.slice(0, 1) },
  { name: 'SISO + N=2,4,8', adapters },
];
const rows = [];
const served = parts.includes('serve')
  ? precisions.flatMap((precision) => configs.map((c) => ({ ...c, precision })))
  : [];
for (const { precision, ...c } of served) {
  const s = await startServe([
    '--model',
    model,
    ...c.adapters.flatMap((a) => ['--adapter', a]),
    '--max-concurrent',
    String(clients * 2),
    '--precision',
    precision,
    ...serveArgs,
  ]);
  const loaded = memoryMb(s.pid);
  const load = await closedLoop(s.url, texts, clients, seconds);
  const after = memoryMb(s.pid);
  await s.stop();
  rows.push({
    config: c.name,
    precision,
    start_s: round(s.startSeconds, 1),
    rss_after_load_mb: loaded.rss,
    pss_after_load_mb: loaded.pss,
    peak_after_start_mb: loaded.peak,
    peak_mb: after.peak,
    pss_after_run_mb: after.pss,
    pss_file_after_run_mb: after.pssFile,
    rss_x_weights: round(loaded.rss / weightMb, 2),
    pss_x_weights: round(after.pss / weightMb, 2),
    peak_x_weights: round(after.peak / weightMb, 2),
    inputs_per_s: round(load.inputs_per_s, 1),
    errors: load.errors,
  });
  console.error(
    `${c.name} ${precision}: start ${round(s.startSeconds, 1)} s, RSS ${loaded.rss} MB (PSS ${loaded.pss}) ` +
      `after load, peak RSS ${after.peak} MB, PSS ${after.pss} MB after the load test`,
  );
}
// transformers.js on the same weights (revmux's SISO export), measured the same way
const tjsDir = path.join(path.dirname(out), `transformersjs-${preset}`);
if (parts.includes('transformersjs')) {
  await exportModel({ model, out: tjsDir });
  await exportModel({ model, out: tjsDir, precision: 'int8' });
}
const others = [];
for (const dtype of parts.includes('transformersjs') ? ['fp32', 'q8'] : []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/memory-child.ts', tjsDir, dtype, '8'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  child.stdout!.on('data', (d) => (said += d));
  const until = (word: string) =>
    new Promise<void>((resolve) => {
      const t = setInterval(() => said.includes(word) && (clearInterval(t), resolve()), 50);
    });
  await until('loaded');
  const loaded = memoryMb(child.pid!);
  await until('ran');
  const after = memoryMb(child.pid!);
  child.kill();
  others.push({
    config: `transformers.js SISO, dtype ${dtype}`,
    rss_after_load_mb: loaded.rss,
    pss_after_load_mb: loaded.pss,
    peak_mb: after.peak,
    pss_after_run_mb: after.pss,
    note: 'after 8 batches of 32 SST-2 sentences, not the load test',
  });
  console.error(
    `transformers.js ${dtype}: RSS ${loaded.rss} MB (PSS ${loaded.pss}) after load, ` +
      `peak RSS ${after.peak} MB, PSS ${after.pss} MB after 8 batches`,
  );
}

const result = {
  benchmark: 'memory',
  machine: machine(),
  preset,
  serve_args: serveArgs,
  weight_mb: round(weightMb, 1),
  clients,
  seconds,
  rows,
  transformersjs: others,
};
report(
  `revmux serve memory, BERT-${preset} shape (float32 weights ${round(weightMb, 0)} MB)`,
  table(
    [
      'config',
      'precision',
      'start s',
      'RSS after load MB',
      'x weights',
      'PSS after load',
      'peak RSS MB',
      'x weights',
      'PSS after load test',
      'x weights',
      'inputs/s',
    ],
    [
      ...rows.map((r) => [
        r.config,
        r.precision,
        r.start_s,
        r.rss_after_load_mb,
        r.rss_x_weights,
        r.pss_after_load_mb,
        r.peak_mb,
        r.peak_x_weights,
        r.pss_after_run_mb,
        r.pss_x_weights,
        r.inputs_per_s,
      ]),
      // transformers.js: 8 batches, not the load test (its pipeline is not a server)
      ...others.map((r) => [
        r.config,
        '',
        '',
        r.rss_after_load_mb,
        round(r.rss_after_load_mb / weightMb, 2),
        r.pss_after_load_mb,
        r.peak_mb,
        round(r.peak_mb / weightMb, 2),
        r.pss_after_run_mb,
        round(r.pss_after_run_mb / weightMb, 2),
        '',
      ]),
    ],
  ),
  result,
);
// a run of one of the two parts gets its own file, so it never overwrites a run of both
const partial =
  parts.includes('serve') && parts.includes('transformersjs')
    ? ''
    : parts.includes('serve')
      ? '-serve'
      : '-transformersjs';
const suffix = (precisions.join(',') === 'fp32' ? '' : `-${precisions.join('-')}`) + partial + (tag ? `-${tag}` : '');
writeTextAtomic(`results/memory-${preset}${suffix}.json`, JSON.stringify(result, null, 2) + '\n');
