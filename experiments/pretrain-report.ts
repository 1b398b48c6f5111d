// npm run experiment:pretrain-report -- RUN_DIR... [--out results/pretraining] [--plot docs/img/pretraining]
// Collects `revmux pretrain` runs as evidence: each run's pretrain.json (options, held-out history,
// tokens, time) is copied to results/pretraining/<run>.json, then a markdown table and a plot of
// held-out accuracy / loss against tokens seen are rendered from those files alone.
import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../src/eval/plots.js';
import { writeTextAtomic } from '../src/io/safetensors.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const outDir = flag('out', 'results/pretraining');
const plotBase = flag('plot', 'docs/img/pretraining');

interface RunRecord {
  run: string;
  steps: number;
  tokens: number;
  seconds: number;
  heldOut: { loss: number; accuracy: number };
  history: { step: number; tokens: number; heldout_loss: number; heldout_acc: number }[];
  options: Record<string, unknown>;
}

for (const dir of args) {
  const file = path.join(dir, 'pretrain.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: not found (has the run finished?)`);
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const record = { run: path.basename(dir), ...r, options: { ...r.options, corpus: path.basename(String(r.options.corpus)), maskRate: r.options.maskRate ?? 0.15 } };
  writeTextAtomic(path.join(outDir, `${record.run}.json`), JSON.stringify(record, null, 2) + '\n');
}

const runs: RunRecord[] = fs
  .readdirSync(outDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')));
const o = (r: RunRecord, k: string) => r.options[k];
console.log('| run | arch | batch x seq | peak lr | warm-up | mask | steps | tokens | step time | held-out loss | held-out accuracy |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  const mask = o(r, 'arch') === 'llama' ? '-' : `${Math.round(100 * Number(o(r, 'maskRate')))}%`;
  console.log(`| ${r.run} | ${o(r, 'arch') ?? 'bert'} | ${o(r, 'batchSize')} x ${o(r, 'seqLen')} | ${o(r, 'lr')} | ${100 * Number(o(r, 'warm'))}% | ${mask} | ${r.steps.toLocaleString('en-US')} | ${(r.tokens / 1e6).toFixed(2)}M | ${(r.seconds / 60).toFixed(1)} min | ${r.heldOut.loss.toFixed(3)} | ${(100 * r.heldOut.accuracy).toFixed(1)}% |`);
}
const points = runs.flatMap((r) => r.history.map((h) => ({ run: r.run, tokens_millions: h.tokens / 1e6, heldout_accuracy: h.heldout_acc, heldout_loss: h.heldout_loss })));
const chart = (field: string, title: string): TopLevelSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title,
  width: 420,
  height: 260,
  data: { values: points },
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'tokens_millions', type: 'quantitative', title: 'tokens seen (millions)' },
    y: { field, type: 'quantitative', title: field.replace('_', ' '), scale: { zero: false } },
    color: { field: 'run', type: 'nominal' },
  },
});
await renderChart({ hconcat: [chart('heldout_accuracy', 'held-out accuracy (MLM: masked tokens; LLaMA: next token)'), chart('heldout_loss', 'held-out loss (nats)')] } as unknown as TopLevelSpec, plotBase);
console.log(`\nwrote ${outDir}/*.json and ${plotBase}.{svg,png}`);
