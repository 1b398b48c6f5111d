// npm run bench:attention-fusion -- [--batch 32] [--seq 128] [--hidden 768] [--heads 12] [--rounds 20]
// Issue #14 item 6: would onnxruntime's fused attention raise the float32 rate? The attention core
// (split heads, softmax(q k^T / sqrt(d) + padding bias) v, merge heads) as revmux writes it, against
// com.microsoft.MultiHeadAttention on the same q, k, v and padding mask, and a whole BERT layer (the
// projections and the FFN around the same core) to weigh the difference. Interleaved.
// Writes results/attention-fusion.json.
import { CONTRIB_DOMAIN, Graph, type Value, attr } from '../src/engine/graph.js';
import * as op from '../src/engine/ops.js';
import { Rng } from '../src/engine/random.js';
import { compile, defaultThreads, float32 } from '../src/engine/runtime.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import {
  bertLayer,
  bertLayerShapes,
  bertLayerWeights,
  mergeHeads,
  paddingMaskBias,
  scaledDotProductAttention,
  splitHeads,
} from '../src/nn/layers.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { values: opts } = scriptArgs(
  'npm run bench:attention-fusion -- [--batch 32] [--seq 128] [--hidden 768] [--heads 12] [--rounds 20]',
  { batch: '32', seq: '128', hidden: '768', heads: '12', rounds: '20' },
);
const [B, S, H, heads, rounds] = (['batch', 'seq', 'hidden', 'heads', 'rounds'] as const).map((n) =>
  numberArg(n, opts[n]),
);
const rng = new Rng(0);
const shape = [B, S, H];
const q = rng.normalArray(B * S * H, 1);
const k = rng.normalArray(B * S * H, 1);
const v = rng.normalArray(B * S * H, 1);
// rows of different lengths, as a padded batch has: row b keeps S - b * S / (2B) tokens
const mask = new BigInt64Array(B * S);
for (let b = 0; b < B; b++)
  for (let s = 0; s < S; s++) mask[b * S + s] = s < S - Math.floor((b * S) / (2 * B)) ? 1n : 0n;
const feeds = {
  q: { dtype: 'float32' as const, shape, data: q },
  k: { dtype: 'float32' as const, shape, data: k },
  v: { dtype: 'float32' as const, shape, data: v },
  mask: { dtype: 'int64' as const, shape: [B, S], data: mask },
};

function core(fused: boolean): Graph {
  const g = new Graph(fused ? 'attention-fused' : 'attention');
  const [qv, kv, vv] = ['q', 'k', 'v'].map((n) => g.input(n, 'float32', shape, { trainable: false }));
  const m = g.input('mask', 'int64', [B, S], { trainable: false });
  let y: Value;
  if (fused) {
    const keyPaddingMask = op.cast(m, 'int32'); // [B, S]: 1 attended, 0 padding
    const attrs = { num_heads: attr.int(heads) };
    const out = [{ dtype: 'float32' as const, shape }];
    y = g.addNode('MultiHeadAttention', [qv, kv, vv, null, keyPaddingMask], out, attrs, true, CONTRIB_DOMAIN)[0];
  } else {
    const [qh, kh, vh] = [qv, kv, vv].map((x) => splitHeads(x, heads));
    y = mergeHeads(scaledDotProductAttention(qh, kh, vh, paddingMaskBias(m), 1 / Math.sqrt(H / heads)));
  }
  g.output('y', y);
  return g;
}

function layer(): Graph {
  const g = new Graph('bert-layer');
  const x = g.input('q', 'float32', shape, { trainable: false });
  const m = g.input('mask', 'int64', [B, S], { trainable: false });
  const w: Record<string, Value> = {};
  for (const [name, s] of bertLayerShapes(H, 4 * H)) {
    const n = s.reduce((a, b) => a * b, 1);
    const data = name.endsWith('LayerNorm.weight') ? new Float32Array(n).fill(1) : rng.normalArray(n, 0.02);
    w[name] = g.initializer(data, s, 'float32', name);
  }
  g.output(
    'y',
    bertLayer(
      x,
      paddingMaskBias(m),
      bertLayerWeights((n) => w[n]),
      { heads, act: 'gelu', eps: 1e-12 },
    ),
  );
  return g;
}

const [plain, fused, whole] = await Promise.all([compile(core(false)), compile(core(true)), compile(layer())]);
const layerFeeds = { q: feeds.q, mask: feeds.mask }; // the layer's input x is fed as q
const yPlain = float32((await plain.run(feeds, ['y'])).y);
const yFused = float32((await fused.run(feeds, ['y'])).y);
let maxDiff = 0;
for (let i = 0; i < yPlain.length; i++) maxDiff = Math.max(maxDiff, Math.abs(yPlain[i] - yFused[i]));

const cases = [
  { name: 'attention core, as revmux writes it', run: () => plain.run(feeds, ['y']) },
  { name: 'attention core, com.microsoft.MultiHeadAttention', run: () => fused.run(feeds, ['y']) },
  { name: 'one whole BERT layer (revmux)', run: () => whole.run(layerFeeds, ['y']) },
];
const timings = (await interleaved(cases, rounds, 3)).map(summarize);
const [tPlain, tFused, tLayer] = timings.map((t) => t.median_ms);
const result = {
  benchmark: 'bench:attention-fusion',
  machine: machine(),
  threads: defaultThreads(),
  shape: { batch: B, seq: S, hidden: H, heads },
  rounds,
  max_abs_difference: maxDiff,
  timings,
  core_speedup: round(tPlain / tFused, 3),
  core_share_of_layer: round(tPlain / tLayer, 3),
  /** The layer's time saved if its core ran fused (the rest of the layer unchanged). */
  projected_layer_speedup: round(tLayer / (tLayer - tPlain + tFused), 3),
};
report(
  `attention fusion: [${B} x ${S} x ${H}], ${heads} heads, ${result.threads} threads, ${rounds} interleaved rounds; ` +
    `outputs differ by at most ${maxDiff}`,
  table(
    ['case', 'median ms', 'p95 ms'],
    timings.map((t) => [t.name, t.median_ms, t.p95_ms]),
  ) +
    `\ncore ${result.core_speedup}x fused; core = ${round(100 * result.core_share_of_layer, 1)}% of a layer; ` +
    `projected layer speed-up ${result.projected_layer_speedup}x`,
  result,
);
writeTextAtomic('results/attention-fusion.json', JSON.stringify(result, null, 2) + '\n');
