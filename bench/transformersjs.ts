// npm run bench:transformersjs -- [--preset base] [--batch 32] [--rounds 10] [--l 3]
//   [--out results/int8/transformersjs-base.json]
// What a JavaScript team would use instead: transformers.js's text-classification pipeline on the same
// weights (revmux's SISO export: onnx/model.onnx, and onnx/model_quantized.onnx for dtype 'q8', written by
// `revmux export --precision int8` in the layout onnxruntime's quantize_dynamic produces), against revmux
// SISO and RevMUX N = 2 / 4 in fp32 and int8. Same texts (SST-2 dev, `--batch` per call, tokenising
// included on both sides), same onnxruntime-node and thread count, one call per case per round,
// interleaved. Random BERT weights of the preset's shape: speed does not depend on the values.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { defaultThreads } from '../src/engine/runtime.js';
import { exportModel } from '../src/export/onnx.js';
import { RevmuxClassifier } from '../src/api/classifier.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';
import { writeRandomServingModel } from './random-model.js';

const { values: opts } = scriptArgs(
  'npm run bench:transformersjs -- [--preset base] [--batch 32] [--rounds 10] [--l 3] ' +
    '[--out results/int8/transformersjs-PRESET.json]',
  { preset: 'base', batch: '32', rounds: '10', l: '3', out: undefined },
);
const { preset } = opts;
const batch = numberArg('batch', opts.batch);
const rounds = numberArg('rounds', opts.rounds);
const l = numberArg('l', opts.l);
const outFile = opts.out ?? `results/int8/transformersjs-${preset}.json`;
const threads = defaultThreads();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-tjs-'));
console.error(`writing a random ${preset} BERT classifier and N = 2, 4 adapters (l = ${l}) to ${dir}`);
const served = writeRandomServingModel(path.join(dir, 'model'), { preset, ns: [2, 4], l });
const tjsDir = path.join(dir, 'transformersjs');
await exportModel({ model: served.model, out: tjsDir });
await exportModel({ model: served.model, out: tjsDir, precision: 'int8' });

const texts = loadExamples('sst2', 'dev', findGlueDir()).map((e) => e.textA);
/** The next `batch` dev sentences: each call gets different texts, every case the same sequence. */
const batches = new Map<string, number>();
const nextBatch = (name: string) => {
  const at = batches.get(name) ?? 0;
  batches.set(name, at + 1);
  const start = (at * batch) % (texts.length - batch);
  return texts.slice(start, start + batch);
};

const { pipeline, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.localModelPath = '/';
const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1 };
const tjs = async (dtype: 'fp32' | 'q8') =>
  pipeline('text-classification', path.resolve(tjsDir), {
    local_files_only: true,
    dtype,
    device: 'cpu',
    session_options: sessionOptions,
  });
const tjsFp32 = await tjs('fp32');
const tjsQ8 = await tjs('q8');
// one classifier per case, each with only the sessions it runs
const revmux = async (precision: 'fp32' | 'int8', n: number) =>
  RevmuxClassifier.load({
    model: served.model,
    adapter: n === 1 ? [] : served.adapters[[2, 4].indexOf(n)],
    precision,
    n,
  });
const mine = {
  'revmux SISO fp32': await revmux('fp32', 1),
  'revmux SISO int8': await revmux('int8', 1),
  'revmux N=2 fp32': await revmux('fp32', 2),
  'revmux N=2 int8': await revmux('int8', 2),
  'revmux N=4 fp32': await revmux('fp32', 4),
  'revmux N=4 int8': await revmux('int8', 4),
};

// Same model underneath: the SISO labels must agree with transformers.js in each precision.
const probe = texts.slice(0, batch);
const agree = async (a: typeof tjsFp32, b: RevmuxClassifier) => {
  const x = (await a(probe)) as { label: string; score: number }[];
  const y = await b.classify(probe);
  return {
    labels_equal: x.every((p, i) => p.label === y[i].label),
    max_score_diff: round(Math.max(...x.map((p, i) => Math.abs(p.score - y[i].score))), 7),
  };
};
const sanity = {
  fp32: await agree(tjsFp32, mine['revmux SISO fp32']),
  int8_vs_q8: await agree(tjsQ8, mine['revmux SISO int8']),
};
console.error(`transformers.js vs revmux SISO on one batch: ${JSON.stringify(sanity)}`);

const cases = [
  { name: 'transformers.js fp32', run: () => tjsFp32(nextBatch('tjs fp32')) },
  { name: 'transformers.js q8', run: () => tjsQ8(nextBatch('tjs q8')) },
  ...Object.entries(mine).map(([name, clf]) => ({ name, run: () => clf.classify(nextBatch(name)) })),
];
const timings = (await interleaved(cases, rounds, 2)).map(summarize);
const median = (name: string) => timings.find((t) => t.name === name)!.median_ms;
const rows = timings.map((t) => ({
  ...t,
  examples_per_s: round((batch * 1000) / t.median_ms, 1),
  vs_transformersjs_fp32: round(median('transformers.js fp32') / t.median_ms, 3),
  vs_transformersjs_q8: round(median('transformers.js q8') / t.median_ms, 3),
}));
const result = {
  benchmark: 'bench:transformersjs',
  machine: machine(),
  model: `random bert-${preset} classifier`,
  l,
  batch,
  rounds,
  threads,
  texts: 'SST-2 dev sentences, consecutive batches',
  transformersjs_version: JSON.parse(fs.readFileSync('node_modules/@huggingface/transformers/package.json', 'utf8'))
    .version,
  onnxruntime_node_version: JSON.parse(fs.readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')).version,
  sanity,
  rows,
  targets: {
    revmux_siso_fp32_within_10pct_of_transformersjs_fp32:
      Math.abs(1 - rows.find((r) => r.name === 'revmux SISO fp32')!.vs_transformersjs_fp32) <= 0.1,
    revmux_n2_int8_at_least_1_5x_transformersjs_q8:
      rows.find((r) => r.name === 'revmux N=2 int8')!.vs_transformersjs_q8 >= 1.5,
  },
};
report(
  `transformers.js vs revmux, random bert-${preset}, batch ${batch}, ${threads} threads, ${rounds} interleaved rounds`,
  table(
    ['case', 'ex/s', 'p50 ms', 'p95 ms', 'vs tjs fp32', 'vs tjs q8'],
    rows.map((r) => [
      r.name,
      r.examples_per_s,
      r.median_ms,
      r.p95_ms,
      `${r.vs_transformersjs_fp32}x`,
      `${r.vs_transformersjs_q8}x`,
    ]),
  ),
  result,
);
writeTextAtomic(outFile, JSON.stringify(result, null, 2) + '\n');
for (const c of Object.values(mine)) await c.close();
fs.rmSync(dir, { recursive: true, force: true });
