// npm run bench:forward — sequences/s of a BERT-base-shaped model (random weights, no checkpoint
// needed) at batch 32, seq 128, next to the GFLOP/s of the model's own largest GEMM (the FFN's
// [B*S x 768] x [768 x 3072]) as a single-node graph in the same run: the model's fraction of that
// matmul rate shows how much the rest of the graph (attention, norms, copies) costs.
// Options: --rounds N (default 3), --batch N, --seq N, --threads N.
import { Graph } from '../src/engine/graph.js';
import * as op from '../src/engine/ops.js';
import { compile, defaultThreads } from '../src/engine/runtime.js';
import { Rng } from '../src/engine/random.js';
import { parseConfig } from '../src/models/config.js';
import { buildForwardGraph } from '../src/models/forward.js';
import { createModel } from '../src/models/init.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { values: opts } = scriptArgs('npm run bench:forward -- [--rounds 3] [--batch 32] [--seq 128] [--threads N]', {
  rounds: '3',
  batch: '32',
  seq: '128',
  threads: String(defaultThreads()),
});
const rounds = numberArg('rounds', opts.rounds);
const B = numberArg('batch', opts.batch);
const S = numberArg('seq', opts.seq);
const threads = numberArg('threads', opts.threads);

const config = parseConfig({ model_type: 'bert', num_labels: 2 }); // bert-base: 768, 12 layers, 12 heads, FFN 3072
if (config.model_type !== 'bert') throw new Error('unreachable');
const t0 = Date.now();
const model = createModel(config, { seed: 0, heads: (n) => !n.startsWith('cls.') });
const initMs = Date.now() - t0;
const g = buildForwardGraph(model, { hiddenStates: false });
const t1 = Date.now();
const session = await compile(g, { threads });
const createMs = Date.now() - t1;

const rng = new Rng(1);
const feeds = {
  input_ids: { data: BigInt64Array.from({ length: B * S }, () => BigInt(1000 + rng.int(20000))), shape: [B, S] },
  attention_mask: { data: new BigInt64Array(B * S).fill(1n), shape: [B, S] },
};

// the machine's matmul rate on the model's largest GEMM, in the same run
const [M, K, N] = [B * S, config.hidden_size, config.intermediate_size];
const mg = new Graph('matmul');
// Summed inside the graph: returning the 4096x3072 result would time a 50 MB copy, not the GEMM.
mg.output(
  'c',
  op.reduceSum(
    op.matmul(mg.input('a', 'float32', [M, K]), mg.initializer(rng.uniformArray(K * N, -1, 1), [K, N], 'float32')),
    undefined,
    false,
  ),
);
const mm = await compile(mg, { threads });
const A = rng.uniformArray(M * K, -1, 1);

const timings = await interleaved(
  [
    { name: `BERT-base forward, batch ${B}, seq ${S}`, run: () => session.run(feeds) },
    { name: `MatMul [${M}x${K}]x[${K}x${N}] (the FFN GEMM)`, run: () => mm.run({ a: A }) },
  ],
  rounds,
  1,
);
const [model_, mat] = timings.map(summarize);
const d = config.hidden_size;
const f = config.intermediate_size;
// per sequence: 12 layers of QKV/O projections, FFN and the two attention products; pooler + classifier
const modelFlops =
  B * (config.num_hidden_layers * (2 * S * (4 * d * d + 2 * d * f) + 4 * S * S * d) + 2 * d * d + 2 * d * 2);
const modelGflops = modelFlops / (model_.median_ms * 1e6);
const peakGflops = (2 * M * K * N) / (mat.median_ms * 1e6);
const result = {
  benchmark: 'forward',
  machine: { ...machine(), threads },
  model: {
    shape: 'bert-base (random weights)',
    parameters: model.weights.size(),
    batch: B,
    seq: S,
    init_ms: initMs,
    session_create_ms: createMs,
  },
  forward: {
    ...model_,
    sequences_per_s: round((B * 1000) / model_.median_ms, 1),
    gflop_per_batch: round(modelFlops / 1e9, 1),
    gflops: round(modelGflops, 1),
  },
  matmul_peak: { ...mat, gflops: round(peakGflops, 1) },
  fraction_of_matmul_peak: round(modelGflops / peakGflops, 3),
};
report(
  `revmux forward benchmark (${threads} threads, ${result.machine.cpu})`,
  table(
    ['case', 'median ms', 'p95 ms', 'GFLOP/s', 'sequences/s'],
    [
      [model_.name, model_.median_ms, model_.p95_ms, result.forward.gflops, result.forward.sequences_per_s],
      [mat.name, mat.median_ms, mat.p95_ms, result.matmul_peak.gflops, '-'],
    ],
  ) +
    `\n\nmodel GFLOP/s / matmul GFLOP/s = ${result.fraction_of_matmul_peak}; ` +
    `parameters ${result.model.parameters.toLocaleString('en-US')}; init ${initMs} ms, session ${createMs} ms`,
  result,
);
