// npm run bench:int8-train -- [--preset base] [--n 2] [--l 3] [--batch 32] [--seq 64] [--rounds 5]
// Adapter training on a frozen backbone in fp32 and in int8 (issue #14, item 2), side by side: the prefill
// of a batch (layers [0, l) per example, run once per example and cached) and one RevMUX training step
// (adapters + frozen layers [l, L) forward and backward). Random weights: speed does not depend on them.
// Writes results/int8/train-<preset>.json.
import { Rng } from '../src/engine/random.js';
import { compile, defaultThreads } from '../src/engine/runtime.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { createModel } from '../src/models/init.js';
import { bertPreset } from '../src/models/presets.js';
import { assembleGroups, computeFeatures, tokenFeeds } from '../src/mux/features.js';
import { muxGraph, prefillGraph } from '../src/mux/graphs.js';
import { initAdapter } from '../src/mux/spec.js';
import type { Precision } from '../src/nn/precision.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { values: opts } = scriptArgs(
  'npm run bench:int8-train -- [--preset base] [--n 2] [--l 3] [--batch 32] [--seq 64] [--rounds 5]',
  { preset: 'base', n: '2', l: '3', batch: '32', seq: '64', rounds: '5' },
);
const { preset } = opts;
const [n, l, B, S, rounds] = (['n', 'l', 'batch', 'seq', 'rounds'] as const).map((k) => numberArg(k, opts[k]));

const config = bertPreset(preset, { num_labels: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 });
const model = createModel(config, { seed: 0, heads: (x) => !x.startsWith('cls.') });
const rng = new Rng(0);
const V = config.vocab_size;
const examples = Array.from({ length: B }, () => ({
  ids: Array.from({ length: S }, () => 1000 + rng.int(V - 1000)),
  typeIds: new Array(S).fill(0),
  label: rng.int(2),
}));
const head = model.taskHead({ labelIds: null });
const spec = { variant: 'revmux' as const, n, l, d: config.hidden_size, dropout: 0.1 };
const adapter = initAdapter(spec, 3);
const feeds = tokenFeeds(model, examples, null, 0);

/** The prefill session and one training step's session and feeds, with the backbone in `precision`. */
async function sessions(precision: Precision) {
  model.weights.precision = precision;
  const prefill = await compile(prefillGraph(model, l));
  const feats = await computeFeatures(model, head, l, examples, 0, { quiet: true });
  const groups = assembleGroups(feats, [...examples.keys()], n, { training: true });
  const step = await compile(
    muxGraph(model, head, spec, adapter, {
      withLoss: true,
      adapterDropout: true,
      backboneDropout: true,
      seed: 4,
      lambda: 0.25,
      mu: 1,
    }),
  );
  return { prefill: () => prefill.run(feeds), step: () => step.run({ ...adapter.feeds(), ...groups }) };
}
const fp32 = await sessions('fp32');
const int8 = await sessions('int8');
const timings = (
  await interleaved(
    [
      { name: 'prefill fp32', run: fp32.prefill },
      { name: 'prefill int8', run: int8.prefill },
      { name: 'train step fp32', run: fp32.step },
      { name: 'train step int8', run: int8.step },
    ],
    rounds,
    2,
  )
).map(summarize);
const m = (i: number) => timings[i].median_ms;
const result = {
  benchmark: 'bench:int8-train',
  machine: machine(),
  threads: defaultThreads(),
  model: `random bert-${preset}`,
  n,
  l,
  batch: B,
  seq: S,
  rounds,
  timings,
  prefill_speedup_int8: round(m(0) / m(1), 3),
  step_speedup_int8: round(m(2) / m(3), 3),
};
report(
  `adapter training, backbone fp32 vs int8: random bert-${preset}, RevMUX N=${n} l=${l}, ` +
    `batch ${B} x ${S}, ${result.threads} threads`,
  table(
    ['case', 'median ms', 'p95 ms', 'min ms'],
    timings.map((t) => [t.name, t.median_ms, t.p95_ms, t.min_ms]),
  ),
  result,
);
writeTextAtomic(`results/int8/train-${preset}.json`, JSON.stringify(result, null, 2) + '\n');
