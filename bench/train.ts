// npm run bench:train — training throughput of a fixed small configuration, measured side by side
// in one run: masked-LM pretraining (tokens/s), SISO fine-tuning (examples/s), RevMUX adapter
// training (examples/s), DataMUX and MUX-PLM whole-model training at N = 2 (examples/s), each next to
// the forward-only throughput of the same model and batch.
// Options: --rounds N (default 5).
import { grad } from '../src/engine/autodiff.js';
import { Graph } from '../src/engine/graph.js';
import * as op from '../src/engine/ops.js';
import { ParamSet } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { compile, defaultThreads } from '../src/engine/runtime.js';
import { type Bert } from '../src/models/bert.js';
import { createModel } from '../src/models/init.js';
import { bertPreset } from '../src/models/presets.js';
import { assembleGroups, computeFeatures } from '../src/mux/features.js';
import { muxGraph } from '../src/mux/graphs.js';
import { initAdapter } from '../src/mux/spec.js';
import { type FullMuxSettings, gaussianHadamard, initHead } from '../src/baselines/datamux.js';
import { fullMuxGraph, groupFeeds, retrievalFeeds } from '../src/baselines/full-mux-graph.js';
import { correctCount, crossEntropy } from '../src/nn/losses.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';

const { values: opts } = scriptArgs('npm run bench:train -- [--rounds 5]', { rounds: '5' });
const rounds = numberArg('rounds', opts.rounds);
const rng = new Rng(0);
// the configuration: the 'mini' preset (4 layers, d = 256, FFN 1024), BERT vocabulary
const config = bertPreset('mini', { num_labels: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 });
const model = createModel(config, { seed: 0 }) as Bert;
const params = new ParamSet();
for (const [n, w] of model.weights.entries()) params.add(n, w.shape, w.data);
const V = config.vocab_size;
const ids = (b: number, s: number) => ({
  data: BigInt64Array.from({ length: b * s }, () => BigInt(1000 + rng.int(V - 1000))),
  shape: [b, s],
});
const ones = (b: number, s: number) => ({ data: new BigInt64Array(b * s).fill(1n), shape: [b, s] });

// --- pretraining: batch 64 x 128, 15% of positions scored
const [PB, PS] = [64, 128];
const M = Math.round(PB * PS * 0.15);
function mlm(withGrad: boolean): Graph {
  const g = new Graph('mlm');
  const p = params.declare(g);
  const x = g.input('input_ids', 'int64', ['b', 's']);
  const m = g.input('attention_mask', 'int64', ['b', 's']);
  const pos = g.input('pos', 'int64', ['k']);
  const lab = g.input('lab', 'int64', ['k']);
  const b = model.bind(g, { training: withGrad, seed: 1, trainable: (n) => p.get(n) });
  const h = b.layers(b.embed({ inputIds: x, attentionMask: m }), b.context(m), 0, model.numLayers);
  const logits = b.mlmLogits(op.gather(op.reshape(h, [-1, config.hidden_size]), pos, 0));
  const loss = crossEntropy(logits, lab);
  g.output('loss', loss);
  g.output('correct', correctCount(logits, lab));
  if (withGrad)
    grad(
      loss,
      params.names().map((n) => p.get(n)!),
    ).forEach((d, i) => g.output(`g${i}`, d));
  return g;
}
const mlmFeeds = {
  ...params.feeds(),
  input_ids: ids(PB, PS),
  attention_mask: ones(PB, PS),
  pos: { data: BigInt64Array.from({ length: M }, () => BigInt(rng.int(PB * PS))), shape: [M] },
  lab: { data: BigInt64Array.from({ length: M }, () => BigInt(1000 + rng.int(V - 1000))), shape: [M] },
};
const mlmTrain = await compile(mlm(true));
const mlmFwd = await compile(mlm(false));

// --- fine-tuning: batch 32 x 64, classifier on the pooler
const [FB, FS] = [32, 64];
function cls(withGrad: boolean): Graph {
  const g = new Graph('cls');
  const p = params.declare(g);
  const x = g.input('input_ids', 'int64', ['b', 's']);
  const m = g.input('attention_mask', 'int64', ['b', 's']);
  const lab = g.input('labels', 'int64', ['b']);
  const b = model.bind(g, { training: withGrad, seed: 2, trainable: (n) => p.get(n) });
  const logits = b.classify(
    b.pool(b.layers(b.embed({ inputIds: x, attentionMask: m }), b.context(m), 0, model.numLayers)),
  );
  const loss = crossEntropy(logits, lab);
  g.output('loss', loss);
  if (withGrad)
    grad(
      loss,
      params
        .names()
        .filter((n) => !n.startsWith('cls.'))
        .map((n) => p.get(n)!),
    ).forEach((d, i) => g.output(`g${i}`, d));
  return g;
}
const clsFeeds = {
  ...params.feeds(),
  input_ids: ids(FB, FS),
  attention_mask: ones(FB, FS),
  labels: { data: BigInt64Array.from({ length: FB }, () => BigInt(rng.int(2))), shape: [FB] },
};
const clsTrain = await compile(cls(true));
const clsFwd = await compile(cls(false));

// --- RevMUX adapters, N = 2, l = 1, on cached prefill features of 32 examples of length 64
const head = model.taskHead({ labelIds: null });
const spec = { variant: 'revmux' as const, n: 2, l: 1, d: config.hidden_size, dropout: 0.1 };
const adapter = initAdapter(spec, 3);
const examples = Array.from({ length: FB }, () => ({
  ids: Array.from({ length: FS }, () => 1000 + rng.int(V - 1000)),
  typeIds: new Array(FS).fill(0),
  label: rng.int(2),
}));
const feats = await computeFeatures(model, head, spec.l, examples, 0, { quiet: true });
const groups = assembleGroups(feats, [...examples.keys()], 2, { training: true });
const muxTrain = await compile(
  muxGraph(model, head, spec, adapter, {
    withLoss: true,
    adapterDropout: true,
    backboneDropout: true,
    seed: 4,
    lambda: 0.25,
    mu: 1,
  }),
);
const muxFwd = await compile(
  muxGraph(model, head, spec, adapter, {
    withLoss: false,
    adapterDropout: false,
    backboneDropout: false,
    seed: 4,
    lambda: 0,
    mu: 0,
  }),
);
const { labels: _l, teacher: _t, ...fwdGroups } = groups;
void _l, _t;

// --- whole-model baselines at N = 2 on the same 32 examples: DataMUX (with its retrieval loss) and MUX-PLM
const whole = (method: 'datamux' | 'muxplm') => {
  const s: FullMuxSettings = {
    method,
    n: 2,
    nu: 20,
    demuxLayers: method === 'muxplm' ? 3 : 2,
    numLabels: 2,
    fillerId: 1,
    indexIds: [2, 3],
  };
  const ps = new ParamSet();
  for (const p of params.list())
    if (!p.name.startsWith('cls.') && !p.name.startsWith('pooler.') && !p.name.startsWith('classifier.'))
      ps.add(p.name, p.shape, p.data);
  for (const p of initHead(s, config.hidden_size, V, 0.02, 5).list()) ps.add(p.name, p.shape, p.data);
  const vectors = gaussianHadamard(2, config.hidden_size, 20, 6);
  const batch = groupFeeds(s, examples, 0);
  const train = {
    ...ps.feeds(),
    ...batch.feeds,
    labels: { data: BigInt64Array.from(examples, (e) => BigInt(e.label)), shape: [FB] },
    ...(method === 'datamux' ? retrievalFeeds(s, examples, batch.seq, new Rng(7)) : {}),
  };
  return { s, ps, vectors, train, fwd: { ...ps.feeds(), ...batch.feeds } };
};
const dm = whole('datamux');
const mp = whole('muxplm');
const dmTrain = await compile(
  fullMuxGraph(model, dm.s, dm.ps, dm.vectors, { objective: 'task', training: true, seed: 8 }),
);
const dmFwd = await compile(
  fullMuxGraph(model, dm.s, dm.ps, dm.vectors, { objective: 'task', training: false, seed: 8 }),
);
const mpTrain = await compile(
  fullMuxGraph(model, mp.s, mp.ps, mp.vectors, { objective: 'task', training: true, seed: 8 }),
);
const mpFwd = await compile(
  fullMuxGraph(model, mp.s, mp.ps, mp.vectors, { objective: 'task', training: false, seed: 8 }),
);

const t = await interleaved(
  [
    { name: 'pretrain step (fwd+bwd)', run: () => mlmTrain.run(mlmFeeds) },
    { name: 'pretrain forward only', run: () => mlmFwd.run(mlmFeeds, ['loss']) },
    { name: 'finetune step (fwd+bwd)', run: () => clsTrain.run(clsFeeds) },
    { name: 'finetune forward only', run: () => clsFwd.run(clsFeeds) },
    { name: 'revmux train step (fwd+bwd)', run: () => muxTrain.run({ ...adapter.feeds(), ...groups }) },
    { name: 'revmux forward only', run: () => muxFwd.run({ ...adapter.feeds(), ...fwdGroups }) },
    { name: 'datamux train step (fwd+bwd)', run: () => dmTrain.run(dm.train) },
    { name: 'datamux forward only', run: () => dmFwd.run(dm.fwd) },
    { name: 'muxplm train step (fwd+bwd)', run: () => mpTrain.run(mp.train) },
    { name: 'muxplm forward only', run: () => mpFwd.run(mp.fwd) },
  ],
  rounds,
  1,
);
const s = t.map(summarize);
const per = (i: number, units: number) => round((units * 1000) / s[i].median_ms, 1);
const result = {
  benchmark: 'train',
  machine: { ...machine(), threads: defaultThreads() },
  model: { preset: 'mini', layers: config.num_hidden_layers, hidden: config.hidden_size, parameters: params.size() },
  pretrain: {
    batch: PB,
    seq: PS,
    scored: M,
    step_ms: s[0].median_ms,
    forward_ms: s[1].median_ms,
    tokens_per_s: per(0, PB * PS),
    forward_tokens_per_s: per(1, PB * PS),
    step_over_forward: round(s[0].median_ms / s[1].median_ms, 2),
  },
  finetune: {
    batch: FB,
    seq: FS,
    step_ms: s[2].median_ms,
    forward_ms: s[3].median_ms,
    examples_per_s: per(2, FB),
    forward_examples_per_s: per(3, FB),
    step_over_forward: round(s[2].median_ms / s[3].median_ms, 2),
  },
  revmux: {
    batch: FB,
    seq: FS,
    n: 2,
    l: 1,
    step_ms: s[4].median_ms,
    forward_ms: s[5].median_ms,
    examples_per_s: per(4, FB),
    forward_examples_per_s: per(5, FB),
    step_over_forward: round(s[4].median_ms / s[5].median_ms, 2),
  },
  datamux: {
    batch: FB,
    seq: FS,
    n: 2,
    retrieval_weight: 0.1,
    step_ms: s[6].median_ms,
    forward_ms: s[7].median_ms,
    examples_per_s: per(6, FB),
    forward_examples_per_s: per(7, FB),
    step_over_forward: round(s[6].median_ms / s[7].median_ms, 2),
  },
  muxplm: {
    batch: FB,
    seq: FS,
    n: 2,
    step_ms: s[8].median_ms,
    forward_ms: s[9].median_ms,
    examples_per_s: per(8, FB),
    forward_examples_per_s: per(9, FB),
    step_over_forward: round(s[8].median_ms / s[9].median_ms, 2),
  },
  note: 'step times are the onnxruntime session run (forward + backward); the optimiser update in JS is not included',
};
report(
  `revmux training benchmark: mini BERT (4 x 256), ${result.machine.threads} threads`,
  table(
    ['case', 'median ms', 'p95 ms', 'throughput'],
    [
      [s[0].name, s[0].median_ms, s[0].p95_ms, `${result.pretrain.tokens_per_s} tokens/s`],
      [s[1].name, s[1].median_ms, s[1].p95_ms, `${result.pretrain.forward_tokens_per_s} tokens/s`],
      [s[2].name, s[2].median_ms, s[2].p95_ms, `${result.finetune.examples_per_s} examples/s`],
      [s[3].name, s[3].median_ms, s[3].p95_ms, `${result.finetune.forward_examples_per_s} examples/s`],
      [s[4].name, s[4].median_ms, s[4].p95_ms, `${result.revmux.examples_per_s} examples/s`],
      [s[5].name, s[5].median_ms, s[5].p95_ms, `${result.revmux.forward_examples_per_s} examples/s`],
      [s[6].name, s[6].median_ms, s[6].p95_ms, `${result.datamux.examples_per_s} examples/s`],
      [s[7].name, s[7].median_ms, s[7].p95_ms, `${result.datamux.forward_examples_per_s} examples/s`],
      [s[8].name, s[8].median_ms, s[8].p95_ms, `${result.muxplm.examples_per_s} examples/s`],
      [s[9].name, s[9].median_ms, s[9].p95_ms, `${result.muxplm.forward_examples_per_s} examples/s`],
    ],
  ),
  result,
);
