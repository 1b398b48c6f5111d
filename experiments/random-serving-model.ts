// npm run experiment:random-model -- [--out runs/random-bert-base] [--n 2] [--l 3]
// Writes a BERT-base-shaped classifier with random weights (plus the bert-base-uncased tokenizer)
// and a RevMUX adapter with random weights for it: serving and throughput do not depend on the
// values, so this measures speed at a real model size without any download or training.
import path from 'node:path';
import { parseConfig } from '../src/models/config.js';
import { createModel } from '../src/models/init.js';
import { saveModel } from '../src/models/save.js';
import { LAYOUT, baseModelInfo, revmuxVersion, saveAdapter } from '../src/mux/adapter.js';
import { initAdapter } from '../src/mux/spec.js';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const out = arg('out', 'runs/random-bert-base');
const n = Number(arg('n', '2'));
const l = Number(arg('l', '3'));
const model = createModel(parseConfig({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }), { seed: 0, heads: (x) => !x.startsWith('cls.') });
saveModel(model, out, { tokenizerFrom: arg('tokenizer', '../shared/data/tokenizers/bert-base-uncased') });
const spec = { variant: 'revmux' as const, n, l, d: 768, dropout: 0.1 };
const adapterDir = `${out}-revmux-n${n}-l${l}`;
const reloaded = (await import('../src/models/load.js')).loadModel(out);
saveAdapter(adapterDir, { revmux_version: revmuxVersion(), ...spec, layout: LAYOUT, task: 'sst2', label_words: ['negative', 'positive'], label_ids: null, base_model: baseModelInfo(reloaded), training: { note: 'random weights, for speed measurements only' } }, initAdapter(spec, 0));
console.log(`wrote ${path.resolve(out)} and ${path.resolve(adapterDir)}`);
