// npm run bench:soak -- [--model DIR --adapter DIR] [--clients 300] [--seconds 600] [--policy adaptive]
// A long, wide load on `revmux serve` run as its own process (so its memory is measured alone):
// many concurrent loopback clients in a closed loop for minutes. Reports requests served, errors by
// class, p50 / p99 latency, and the server's RSS after start-up, at the end and at its peak.
// Without --model it serves a BERT-mini-shaped classifier with random weights (bench/random-model.ts).
// Targets (hardening issue): no errors other than 429; RSS growth under 20%.
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { closedLoop } from '../src/serve/loadtest.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { machine, report, round, table } from './lib.js';
import { writeRandomServingModel } from './random-model.js';
import { memoryMb, startServe } from './serve-process.js';

const { values: opts } = scriptArgs(
  'npm run bench:soak -- [--model DIR --adapter DIR] [--clients 300] [--seconds 600] [--policy adaptive]',
  { model: undefined, adapter: undefined, clients: '300', seconds: '600', policy: 'adaptive' },
);
const clients = numberArg('clients', opts.clients);
const seconds = numberArg('seconds', opts.seconds);
const policy = opts.policy;
let modelDir = opts.model;
let adapterDir = opts.adapter;
if (!modelDir)
  ({ model: modelDir, adapter: adapterDir } = writeRandomServingModel('runs/random-bert-mini', {
    preset: 'mini',
    n: 2,
    l: 1,
  }));
const texts = loadExamples('sst2', 'dev', findGlueDir()).map((e) => e.textA);

const server = await startServe([
  '--model',
  modelDir!,
  ...(adapterDir ? ['--adapter', adapterDir] : []),
  '--policy',
  policy,
  '--max-concurrent',
  String(clients * 2),
]);
const url = server.url;
await closedLoop(url, texts, 8, 2); // warm-up
const start = memoryMb(server.pid!);
const load = await closedLoop(url, texts, clients, seconds, Number.MAX_SAFE_INTEGER);
const end = memoryMb(server.pid!);
await server.stop();

const errors = Object.entries(load.errors);
const result = {
  benchmark: 'soak',
  machine: machine(),
  model: modelDir,
  adapter: adapterDir ?? null,
  policy,
  clients,
  seconds: round(load.seconds, 1),
  requests: load.requests,
  ok: load.ok,
  errors: load.errors,
  errors_other_than_429: errors.filter(([k]) => k !== '429').reduce((a, [, v]) => a + v, 0),
  inputs_per_s: round(load.inputs_per_s, 1),
  p50_ms: round(load.p50_ms, 1),
  p99_ms: round(load.p99_ms, 1),
  rss_mb: { after_start: start.rss, end: end.rss, peak: end.peak },
  rss_growth: round(end.rss / start.rss - 1, 3),
};
report(
  `revmux serve soak: ${clients} clients for ${seconds} s`,
  table(
    [
      'requests',
      'ok',
      'errors (not 429)',
      'inputs/s',
      'p50 ms',
      'p99 ms',
      'RSS start MB',
      'RSS end MB',
      'RSS peak MB',
      'growth',
    ],
    [
      [
        result.requests,
        result.ok,
        result.errors_other_than_429,
        result.inputs_per_s,
        result.p50_ms,
        result.p99_ms,
        start.rss,
        end.rss,
        end.peak,
        `${round(100 * result.rss_growth, 1)}%`,
      ],
    ],
  ) + `\n\nerrors: ${JSON.stringify(load.errors)}; targets: no errors other than 429, RSS growth < 20%`,
  result,
);
