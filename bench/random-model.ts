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
  /** The adapter for the first N asked for. */
  adapter: string;
  /** One adapter per N, in the order asked. */
  adapters: string[];
}

export function writeRandomServingModel(
  out: string,
  o: { preset?: string; n?: number; ns?: number[]; l?: number; tokenizer?: string } = {},
): RandomServingModel {
  const ns = o.ns ?? [o.n ?? 2];
  const l = o.l ?? 3;
  const config = bertPreset(o.preset ?? 'base', { num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } });
  saveModel(createModel(config, { seed: 0, heads: (x) => !x.startsWith('cls.') }), out, {
    tokenizerFrom: o.tokenizer ?? '../shared/data/tokenizers/bert-base-uncased',
  });
  const base = baseModelInfo(loadModel(out));
  const adapters = ns.map((n) => {
    const spec = { variant: 'revmux' as const, n, l, d: config.hidden_size, dropout: 0.1 };
    const adapter = `${out}-revmux-n${n}-l${l}`;
    saveAdapter(
      adapter,
      {
        revmux_version: revmuxVersion(),
        ...spec,
        layout: LAYOUT,
        task: 'sst2',
        label_words: ['negative', 'positive'],
        label_ids: null,
        base_model: base,
        training: { note: 'random weights, for speed measurements only' },
      },
      initAdapter(spec, 0),
    );
    return path.resolve(adapter);
  });
  return { model: path.resolve(out), adapter: adapters[0], adapters };
}
