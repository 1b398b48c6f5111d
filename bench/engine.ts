// npm run bench:engine — the engine's speed, measured side by side in one run:
//  1. GFLOP/s of a [512x768] x [768x3072] MatMul built through our builder vs a hand-written
//     single-node ONNX model in a plain onnxruntime session (target: within 10%).
//  2. One BERT-base-shaped layer (hidden 768, 12 heads, FFN 3072, batch 8, seq 128): forward, and
//     forward + backward w.r.t. its input with frozen weights (target: at most 2.5x the forward);
//     also forward + backward w.r.t. input and all weights, for reference.
// Options: --rounds N (default 10), --threads N (default: all cores).
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { Graph, compile, defaultThreads, grad, op } from '../src/engine/index.js';
import { Rng } from '../src/engine/random.js';
import { bertLayer, bertLayerShapes, bertLayerWeights, paddingMaskBias } from '../src/nn/layers.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { onnx } = onnxProto;
const { values: opts } = scriptArgs('npm run bench:engine -- [--rounds 10] [--threads N]', {
  rounds: '10',
  threads: String(defaultThreads()),
});
const rounds = numberArg('rounds', opts.rounds);
const threads = numberArg('threads', opts.threads);
const rng = new Rng(0);

// ---------------------------------------------------------------- 1. MatMul
const [M, K, N] = [512, 768, 3072];
const A = rng.uniformArray(M * K, -1, 1);
const Bw = rng.uniformArray(K * N, -1, 1);

const g = new Graph('matmul');
const a = g.input('a', 'float32', [M, K]);
g.output('c', op.matmul(a, g.initializer(Bw, [K, N], 'float32', 'b')));
const ours = await compile(g, { threads });

// Hand-written: one MatMul node, B as an initializer, no builder involved.
const F = onnx.TensorProto.DataType.FLOAT;
const vi = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const handModel = onnx.ModelProto.encode(
  onnx.ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'hand',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }],
      initializer: [{ name: 'b', dims: [K, N], dataType: F, rawData: new Uint8Array(Bw.buffer) }],
      input: [vi('a', [M, K])],
      output: [vi('c', [M, N])],
    },
  }),
).finish();
const plain = await ort.InferenceSession.create(handModel, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const plainFeed = { a: new ort.Tensor('float32', A, [M, K]) };

const mm = await interleaved(
  [
    { name: 'revmux graph', run: () => ours.run({ a: A }) },
    { name: 'plain onnxruntime session', run: () => plain.run(plainFeed) },
  ],
  rounds * 3,
);
const flops = 2 * M * K * N;
const mmRows = mm.map((t) => {
  const s = summarize(t);
  return { ...s, gflops: round(flops / (s.median_ms * 1e6), 1) };
});
const mmRatio = round(mmRows[0].gflops / mmRows[1].gflops, 3);

// ---------------------------------------------------------------- 2. BERT-base layer
const [H, FFN, HEADS, BATCH, SEQ] = [768, 3072, 12, 8, 128];
const shapes = bertLayerShapes(H, FFN);
const weights = new Map(
  shapes.map(([n, s]) => [
    n,
    {
      shape: s,
      data: n.endsWith('LayerNorm.weight')
        ? new Float32Array(s[0]).fill(1)
        : rng.normalArray(
            s.reduce((p, q) => p * q, 1),
            0.02,
          ),
    },
  ]),
);

function buildLayer(mode: 'forward' | 'backward-input' | 'backward-all'): Graph {
  const lg = new Graph(`bert-layer-${mode}`);
  const x = lg.input('x', 'float32', ['batch', 'seq', H]);
  const mask = lg.input('mask', 'int64', ['batch', 'seq']);
  // Frozen weights are initializers; for "backward-all" they are trainable inputs instead.
  const w = new Map(
    shapes.map(([n, s]) => [
      n,
      mode === 'backward-all' ? lg.input(n, 'float32', s) : lg.initializer(weights.get(n)!.data, s, 'float32', n),
    ]),
  );
  const y = bertLayer(
    x,
    paddingMaskBias(mask),
    bertLayerWeights((n) => w.get(n)!),
    { heads: HEADS, act: 'gelu', eps: 1e-12 },
  );
  lg.output('y', y);
  if (mode !== 'forward') {
    const dy = lg.input('dy', 'float32', ['batch', 'seq', H], { trainable: false });
    const loss = op.reduceSum(op.mul(y, dy), undefined, false);
    const wrt = mode === 'backward-all' ? [x, ...w.values()] : [x];
    grad(loss, wrt).forEach((d, i) => lg.output(i === 0 ? 'dx' : `d.${shapes[i - 1][0]}`, d));
  }
  return lg;
}

const x = { data: rng.normalArray(BATCH * SEQ * H, 1), shape: [BATCH, SEQ, H] };
const mask = { data: new BigInt64Array(BATCH * SEQ).fill(1n), shape: [BATCH, SEQ] };
const dy = { data: rng.normalArray(BATCH * SEQ * H, 1), shape: [BATCH, SEQ, H] };
const wFeeds = Object.fromEntries([...weights].map(([n, v]) => [n, v]));
const fwd = await compile(buildLayer('forward'), { threads });
const bwdX = await compile(buildLayer('backward-input'), { threads });
const bwdAll = await compile(buildLayer('backward-all'), { threads });
const layer = await interleaved(
  [
    { name: 'forward', run: () => fwd.run({ x, mask }) },
    { name: 'forward + backward (dx, frozen weights)', run: () => bwdX.run({ x, mask, dy }) },
    { name: 'forward + backward (dx and all weights)', run: () => bwdAll.run({ x, mask, dy, ...wFeeds }) },
  ],
  rounds,
);
const layerFlops = 2 * BATCH * SEQ * (4 * H * H + 2 * H * FFN) + 2 * 2 * BATCH * SEQ * SEQ * H;
const layerRows = layer.map((t) => summarize(t));
const fwdMs = layerRows[0].median_ms;

const result = {
  benchmark: 'engine',
  machine: { ...machine(), threads },
  matmul: {
    shape: `[${M}x${K}] x [${K}x${N}]`,
    results: mmRows,
    ratio_ours_to_plain: mmRatio,
    target: 'ratio >= 0.90',
    met: mmRatio >= 0.9,
  },
  bert_layer: {
    shape: { hidden: H, heads: HEADS, ffn: FFN, batch: BATCH, seq: SEQ },
    forward_gflop: round(layerFlops / 1e9, 2),
    results: layerRows.map((r) => ({
      ...r,
      ratio_to_forward: round(r.median_ms / fwdMs, 2),
      gflops_forward_equivalent: round(layerFlops / (r.median_ms * 1e6), 1),
    })),
    ratio_backward_input_to_forward: round(layerRows[1].median_ms / fwdMs, 3),
    target: 'forward+backward(dx) <= 2.5x forward',
    met: layerRows[1].median_ms / fwdMs <= 2.5,
  },
};

const human = [
  table(
    ['MatMul ' + result.matmul.shape, 'median ms', 'p95 ms', 'GFLOP/s'],
    mmRows.map((r) => [r.name, r.median_ms, r.p95_ms, r.gflops]),
  ),
  `ours / plain = ${mmRatio} (target >= 0.90: ${result.matmul.met ? 'met' : 'NOT met'})`,
  '',
  table(
    [`BERT-base layer, batch ${BATCH}, seq ${SEQ}`, 'median ms', 'p95 ms', 'x forward'],
    result.bert_layer.results.map((r) => [r.name, r.median_ms, r.p95_ms, r.ratio_to_forward]),
  ),
  `forward+backward(dx) / forward = ${result.bert_layer.ratio_backward_input_to_forward} ` +
    `(target <= 2.5: ${result.bert_layer.met ? 'met' : 'NOT met'})`,
].join('\n');
report(`revmux engine benchmark (${threads} threads, ${result.machine.cpu})`, human, result);
