// npm run bench:int8-matmul -- [--rows 4096] [--k 768] [--n 3072] [--rounds 20]
// One Linear layer at BERT-base's FFN shape ([4096 x 768] x [768 x 3072] by default): float32 MatMul
// against the two ways revmux writes an int8 Linear (nn/quantize.ts): the contrib op DynamicQuantizeMatMul,
// and the standard DynamicQuantizeLinear + MatMulInteger + Cast + Mul chain, with onnxruntime's full
// optimisation (which fuses the chain) and with basic optimisation only (unfused). Interleaved.
// Writes results/int8/matmul.json (or --out).
import { Graph } from '../src/engine/graph.js';
import { Rng } from '../src/engine/random.js';
import { type SessionOptions, compile, defaultThreads } from '../src/engine/runtime.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { markFrozenLinear } from '../src/nn/frozen-linear.js';
import { linear } from '../src/nn/layers.js';
import { INT8_WEIGHT_MAX, type QuantizedForm } from '../src/nn/quantize.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { values: opts } = scriptArgs(
  'npm run bench:int8-matmul -- [--rows 4096] [--k 768] [--n 3072] [--rounds 20] [--out FILE]',
  {
    out: 'results/int8/matmul.json',
    rows: '4096',
    k: '768',
    n: '3072',
    rounds: '20',
  },
);
const [rows, K, N, rounds] = (['rows', 'k', 'n', 'rounds'] as const).map((n) => numberArg(n, opts[n]));
const rng = new Rng(0);
const w = rng.normalArray(N * K, 0.02);
const x = rng.normalArray(rows * K, 1);

async function session(form: QuantizedForm | null, opts: SessionOptions = {}) {
  const g = new Graph('linear');
  const xv = g.input('x', 'float32', [rows, K], { trainable: false });
  const wv = g.initializer(w, [N, K], 'float32', 'w');
  if (form) markFrozenLinear(wv, w, [N, K], 'int8', form);
  g.output('y', linear(xv, { weight: wv }));
  const s = await compile(g, opts);
  return () => s.run({ x });
}
const cases = [
  { name: 'fp32 MatMul', run: await session(null) },
  { name: 'int8 DynamicQuantizeMatMul (contrib)', run: await session('contrib') },
  { name: 'int8 standard chain, optimisation all (fused)', run: await session('standard') },
  {
    name: 'int8 standard chain, optimisation basic (unfused)',
    run: await session('standard', { optimization: 'basic' }),
  },
];
const timings = (await interleaved(cases, rounds, 3)).map(summarize);
const gflops = (ms: number) => round((2 * rows * K * N) / ms / 1e6, 1);
const result = {
  benchmark: 'bench:int8-matmul',
  machine: machine(),
  threads: defaultThreads(),
  shape: { rows, k: K, n: N },
  weight_levels: `[-${INT8_WEIGHT_MAX}, ${INT8_WEIGHT_MAX}]`,
  rounds,
  timings: timings.map((t) => ({
    ...t,
    gflops: gflops(t.median_ms),
    speedup_vs_fp32: round(timings[0].median_ms / t.median_ms, 3),
  })),
};
report(
  `one Linear [${rows} x ${K}] x [${K} x ${N}], ${result.threads} threads, ${rounds} interleaved rounds`,
  table(
    ['case', 'median ms', 'p95 ms', 'GFLOP/s', 'vs fp32'],
    result.timings.map((t) => [t.name, t.median_ms, t.p95_ms, t.gflops, `${t.speedup_vs_fp32}x`]),
  ),
  result,
);
writeTextAtomic(opts.out, JSON.stringify(result, null, 2) + '\n');
