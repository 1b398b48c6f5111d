// npm run bench:serve -- --model DIR --adapter DIR [--seconds 10] [--concurrency 128]
// The server against the offline benchmark, in one run, on this machine's loopback:
//  1. offline multiplexed throughput (revmux bench's measurement) for the same model, N, batch size
//  2. the server with a fixed N at saturation (closed loop, many clients): inputs/s, as a fraction of 1
//  3. low load (one client): p50/p95 latency with the SISO policy vs the adaptive policy
import { measureThroughput } from '../src/eval/throughput.js';
import { loadModel } from '../src/models/load.js';
import { loadAdapter } from '../src/mux/adapter.js';
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { closedLoop } from '../src/serve/loadtest.js';
import { startServer } from '../src/serve/server.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { machine, report, round, table } from './lib.js';

const { values: opts } = scriptArgs(
  'npm run bench:serve -- --model DIR --adapter DIR [--seconds 10] [--concurrency 128] [--batch 64]',
  { model: undefined, adapter: undefined, seconds: '10', concurrency: '128', batch: '64' },
);
const modelDir = opts.model;
const adapterDir = opts.adapter;
if (!modelDir || !adapterDir) throw new Error('--model DIR and --adapter DIR are required');
const seconds = numberArg('seconds', opts.seconds);
const concurrency = numberArg('concurrency', opts.concurrency);
const batch = numberArg('batch', opts.batch);
const { config } = loadAdapter(adapterDir);
const n = config.n;
const texts = loadExamples('sst2', 'dev', findGlueDir()).map((e) => e.textA);

// 1. offline, same model / N / batch, real SST-2 lengths (tokenised like the server does)
const model = loadModel(modelDir);
const { TextTokenizer } = await import('../src/io/tokenizer.js');
const tok = TextTokenizer.load(modelDir);
const lengths = texts.map((t) => tok.encode(t).ids.length);
const offline = (
  await measureThroughput(model, {
    variants: [config.variant],
    ns: [n],
    ls: [config.l],
    batch,
    seq: lengths,
    rounds: 10,
    warmup: 2,
    seed: 1,
    adapters: new Map([[`${config.variant}:${n}:${config.l}`, loadAdapter(adapterDir).params]]),
  })
).rows[0];

async function withServer<T>(policy: 'adaptive' | number, f: (url: string) => Promise<T>): Promise<T> {
  const s = await startServer({
    model: modelDir!,
    adapters: [adapterDir!],
    port: 0,
    policy,
    maxBatch: batch,
    maxDelayMs: 5,
    maxConcurrent: 4096,
    maxQueue: 1 << 16,
  });
  await s.ready;
  try {
    await closedLoop(s.url, texts, 8, 1); // warm-up
    return await f(s.url);
  } finally {
    await s.shutdown();
  }
}

// 2. saturation with fixed N
const saturated = await withServer(n, (url) => closedLoop(url, texts, concurrency, seconds));
// 3. low load: one client, SISO vs adaptive
const lowSiso = await withServer(1, (url) => closedLoop(url, texts, 1, seconds / 2));
const lowAdaptive = await withServer('adaptive', (url) => closedLoop(url, texts, 1, seconds / 2));
const satAdaptive = await withServer('adaptive', (url) => closedLoop(url, texts, concurrency, seconds));

const result = {
  benchmark: 'serve',
  machine: machine(),
  model: modelDir,
  adapter: { dir: adapterDir, variant: config.variant, n, l: config.l },
  offline: { batch, examples_per_s: offline.mux_examples_per_s, siso_examples_per_s: offline.siso_examples_per_s },
  saturation: {
    policy: `N = ${n}`,
    concurrency,
    inputs_per_s: round(saturated.inputs_per_s, 1),
    p50_ms: round(saturated.p50_ms, 1),
    p99_ms: round(saturated.p99_ms, 1),
    errors: saturated.errors,
    fraction_of_offline: round(saturated.inputs_per_s / offline.mux_examples_per_s, 3),
  },
  saturation_adaptive: {
    inputs_per_s: round(satAdaptive.inputs_per_s, 1),
    p50_ms: round(satAdaptive.p50_ms, 1),
    p99_ms: round(satAdaptive.p99_ms, 1),
  },
  low_load: {
    siso: { p50_ms: round(lowSiso.p50_ms, 2), p95_ms: round(lowSiso.p95_ms, 2) },
    adaptive: { p50_ms: round(lowAdaptive.p50_ms, 2), p95_ms: round(lowAdaptive.p95_ms, 2) },
    adaptive_over_siso_p50: round(lowAdaptive.p50_ms / lowSiso.p50_ms, 3),
  },
};
report(
  'revmux serve vs offline',
  table(
    ['case', 'inputs/s', 'p50 ms', 'p95/p99 ms'],
    [
      [`offline ${config.variant} N=${n}, batch ${batch}`, offline.mux_examples_per_s, '-', '-'],
      [
        `server N=${n}, ${concurrency} clients`,
        result.saturation.inputs_per_s,
        result.saturation.p50_ms,
        result.saturation.p99_ms,
      ],
      [
        `server adaptive, ${concurrency} clients`,
        result.saturation_adaptive.inputs_per_s,
        result.saturation_adaptive.p50_ms,
        result.saturation_adaptive.p99_ms,
      ],
      [
        'server SISO, 1 client',
        round(lowSiso.inputs_per_s, 1),
        result.low_load.siso.p50_ms,
        result.low_load.siso.p95_ms,
      ],
      [
        'server adaptive, 1 client',
        round(lowAdaptive.inputs_per_s, 1),
        result.low_load.adaptive.p50_ms,
        result.low_load.adaptive.p95_ms,
      ],
    ],
  ) +
    `\n\nsaturation / offline = ${result.saturation.fraction_of_offline} (target >= 0.9); ` +
    `adaptive / SISO p50 at low load = ${result.low_load.adaptive_over_siso_p50}`,
  result,
);
