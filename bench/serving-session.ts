// npm run bench:serving-session -- [--preset base] [--rounds 10] [--batch 32]
// The server's one session (SISO and every N over one copy of the weights, the idle parts fed empty batches)
// against a session of its own per N, as the server ran before: the same batches, interleaved, in one process,
// each way with onnxruntime's weight prepacking off (as sessions built from files default) and on (the server's
// default). The one session must not cost throughput (issue #17: within 5%). Writes
// results/serving-session-<preset>.json.
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { compile, float32 } from '../src/engine/runtime.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { loadModel } from '../src/models/load.js';
import { loadAdapter, specOf } from '../src/mux/adapter.js';
import { tokenFeeds } from '../src/mux/features.js';
import { fusedMuxGraph, fusedSisoGraph } from '../src/mux/graphs.js';
import { type Encoded, ServeEngine } from '../src/serve/engine.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, round, summarize, table } from './lib.js';
import { writeRandomServingModel } from './random-model.js';

const { values: opts } = scriptArgs('npm run bench:serving-session -- [--preset base] [--rounds 10] [--batch 32]', {
  preset: 'base',
  rounds: '10',
  batch: '32',
});
const preset = opts.preset;
const rounds = numberArg('rounds', opts.rounds);
const batch = numberArg('batch', opts.batch);
const { model: dir, adapters } = writeRandomServingModel(`runs/random-bert-${preset}`, { preset, ns: [2, 4, 8], l: 3 });
const model = loadModel(dir);
const head = model.taskHead({ labelIds: null });
const a2 = loadAdapter(adapters[0]);
const ways = [];
for (const prepack of [false, true]) {
  const engine = await ServeEngine.load(dir, adapters, { prepackWeights: prepack });
  const own = new Map([[1, await compile(fusedSisoGraph(model, head), { prepack })]]);
  own.set(2, await compile(fusedMuxGraph(model, head, specOf(a2.config), a2.params), { prepack }));
  ways.push({ prepack, engine, own });
}
const engine = ways[0].engine;
const items: Encoded[] = [];
for (const e of loadExamples('sst2', 'dev', findGlueDir())) {
  const r = engine.encode({ text: e.textA });
  if (r.ok) items.push(r.enc);
  if (items.length === batch) break;
}
const label = (n: number) => (n === 1 ? 'SISO' : `N = ${n}`);
const cases = ways.flatMap(({ prepack, engine, own }) =>
  [1, 2].flatMap((n) => [
    {
      name: `${label(n)}, its own session${prepack ? ', prepacked' : ''}`,
      run: async () =>
        float32((await own.get(n)!.run(tokenFeeds(model, items, n === 1 ? null : n, 0), ['logits'])).logits),
    },
    { name: `${label(n)}, the serving session${prepack ? ', prepacked' : ''}`, run: () => engine.classify(items, n) },
  ]),
);
const timings = (await interleaved(cases, rounds)).map(summarize);
const ratio = (i: number) => round(timings[i + 1].median_ms / timings[i].median_ms, 3);
const json = {
  machine: machine(),
  preset,
  batch,
  rounds,
  serving_session_parts: engine.availableN,
  timings,
  serving_over_own: { siso: ratio(0), n2: ratio(2), siso_prepacked: ratio(4), n2_prepacked: ratio(6) },
};
writeTextAtomic(`results/serving-session-${preset}.json`, JSON.stringify(json, null, 2) + '\n');
report(
  `serving session vs own sessions, ${preset}, ${batch} SST-2 sentences per batch, ${rounds} rounds`,
  table(
    ['case', 'median ms', 'p95 ms'],
    timings.map((t) => [t.name, t.median_ms, t.p95_ms]),
  ),
  json,
);
