// A BERT classifier of a preset's shape with random weights (plus the bert-base-uncased tokenizer)
// and a RevMUX adapter with random weights for it: serving speed and robustness do not depend on
// the values, so this measures at a real model size without any download or training.
import path from 'node:path';
import { createModel } from '../src/models/init.js';
import { loadModel } from '../src/models/load.js';
import { bertPreset } from '../src/models/presets.js';
import { saveModel } from '../src/models/save.js';
import { LAYOUT, baseModelInfo, revmuxVersion, saveAdapter } from '../src/mux/adapter.js';
import { initAdapter } from '../src/mux/spec.js';

export interface RandomServingModel {
  model: string;
  adapter: string;
}

export function writeRandomServingModel(out: string, o: { preset?: string; n?: number; l?: number; tokenizer?: string } = {}): RandomServingModel {
  const n = o.n ?? 2;
  const l = o.l ?? 3;
  const config = bertPreset(o.preset ?? 'base', { num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } });
  saveModel(createModel(config, { seed: 0, heads: (x) => !x.startsWith('cls.') }), out, { tokenizerFrom: o.tokenizer ?? '../shared/data/tokenizers/bert-base-uncased' });
  const spec = { variant: 'revmux' as const, n, l, d: config.hidden_size, dropout: 0.1 };
  const adapter = `${out}-revmux-n${n}-l${l}`;
  const base = baseModelInfo(loadModel(out));
  saveAdapter(adapter, { revmux_version: revmuxVersion(), ...spec, layout: LAYOUT, task: 'sst2', label_words: ['negative', 'positive'], label_ids: null, base_model: base, training: { note: 'random weights, for speed measurements only' } }, initAdapter(spec, 0));
  return { model: path.resolve(out), adapter: path.resolve(adapter) };
}
