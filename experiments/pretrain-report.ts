// npm run experiment:pretrain-report -- RUN_DIR... [--out results/pretraining] [--plot docs/img/pretraining]
// Collects `revmux pretrain` runs as evidence: each run's pretrain.json (options, held-out history,
// tokens, time) is copied to results/pretraining/<run>.json, then a markdown table and a plot of
// held-out accuracy / loss against tokens seen are rendered from those files alone.
import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../src/eval/plots.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { predictsNextToken, pretrainingObjective } from '../src/train/pretrain.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';

const { values: opts, positionals: runDirs } = scriptArgs(
  'npm run experiment:pretrain-report -- RUN_DIR... [--out results/pretraining] [--plot docs/img/pretraining]',
  { out: 'results/pretraining', plot: 'docs/img/pretraining' },
  { positionals: true },
);
const outDir = opts.out;
const plotBase = opts.plot;

interface RunRecord {
  run: string;
  steps: number;
  tokens: number;
  seconds: number;
  heldOut: { loss: number; accuracy: number };
  history: { step: number; tokens: number; heldout_loss: number; heldout_acc: number }[];
  options: Record<string, unknown>;
}

for (const dir of runDirs) {
  const file = path.join(dir, 'pretrain.json');
  const stateFile = path.join(dir, '.train-state', 'state.json');
  let r;
  if (fs.existsSync(file)) r = JSON.parse(fs.readFileSync(file, 'utf8'));
  else if (fs.existsSync(stateFile)) {
    // a run stopped before its budget ended: its last checkpoint is the evidence
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const { packer: _packer, elapsed, tokens, ...options } = s.meta;
    const last = s.history[s.history.length - 1];
    r = {
      steps: s.step,
      tokens,
      seconds: elapsed,
      heldOut: { loss: last.heldout_loss, accuracy: last.heldout_acc },
      history: s.history,
      options,
      stopped_before_budget: true,
    };
  } else throw new Error(`${file}: not found, nor a checkpoint in ${stateFile}`);
  const record = {
    run: path.basename(dir),
    ...r,
    options: {
      ...r.options,
      corpus: path.basename(String(r.options.corpus)),
      tokenizer: r.options.tokenizer ? path.basename(String(r.options.tokenizer)) : 'bert-base-uncased',
      maskRate: r.options.maskRate ?? 0.15,
    },
  };
  writeTextAtomic(path.join(outDir, `${record.run}.json`), JSON.stringify(record, null, 2) + '\n');
}

const runs: RunRecord[] = fs
  .readdirSync(outDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')));
const o = (r: RunRecord, k: string) => r.options[k];
console.log(
  '| run | arch | objective | tokenizer | batch x seq | peak lr | warm-up | mask | steps | tokens | step time | ' +
    'held-out loss | held-out accuracy |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  const arch = o(r, 'arch') ?? 'bert';
  const spans = pretrainingObjective(arch) === 'span-corruption';
  const objective =
    predictsNextToken(arch) || o(r, 'objective') === 'causal' ? 'next token' : spans ? 'span corruption' : 'masked LM';
  const mask = objective === 'next token' ? '-' : `${Math.round(100 * Number(o(r, 'maskRate')))}%`;
  console.log(
    '| ' +
      [
        r.run,
        o(r, 'arch') ?? 'bert',
        objective,
        o(r, 'tokenizer') ?? 'bert-base-uncased',
        `${o(r, 'batchSize')} x ${o(r, 'seqLen')}`,
        o(r, 'lr'),
        `${100 * Number(o(r, 'warm'))}%`,
        mask,
        r.steps.toLocaleString('en-US'),
        `${(r.tokens / 1e6).toFixed(2)}M`,
        `${(r.seconds / 60).toFixed(1)} min`,
        r.heldOut.loss.toFixed(3),
        `${(100 * r.heldOut.accuracy).toFixed(1)}%`,
      ].join(' | ') +
      ' |',
  );
}
// a run that continued another one's weights (options.model) is drawn after it, at its tokens in all
const byName = new Map(runs.map((r) => [r.run, r]));
const tokensBefore = (r: RunRecord): number => {
  const from = byName.get(path.basename(String(o(r, 'model') ?? '')));
  return from ? tokensBefore(from) + from.tokens : 0;
};
const points = runs.flatMap((r) =>
  r.history.map((h) => ({
    run: r.run,
    tokens_millions: (tokensBefore(r) + h.tokens) / 1e6,
    heldout_accuracy: h.heldout_acc,
    heldout_loss: h.heldout_loss,
  })),
);
const chart = (field: string, title: string): TopLevelSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title,
  width: 420,
  height: 260,
  data: { values: points },
  mark: { type: 'line', point: true },
  encoding: {
    x: {
      field: 'tokens_millions',
      type: 'quantitative',
      title: 'tokens seen, continuations counted from their start (millions)',
    },
    y: { field, type: 'quantitative', title: field.replace('_', ' '), scale: { zero: false } },
    color: { field: 'run', type: 'nominal', scale: { scheme: 'tableau20' } },
  },
});
await renderChart(
  {
    hconcat: [
      chart('heldout_accuracy', 'held-out accuracy (MLM: masked tokens; LLaMA: next token; T5: span targets)'),
      chart('heldout_loss', 'held-out loss (nats)'),
    ],
  } as unknown as TopLevelSpec,
  plotBase,
);
console.log(`\nwrote ${outDir}/*.json and ${plotBase}.{svg,png}`);
