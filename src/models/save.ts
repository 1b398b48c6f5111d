// Writes a backbone as a Hugging Face folder that transformers (and revmux) can load:
// config.json with `architectures`, model.safetensors (sharded past 5 GB), tokenizer files if given.
import fs from 'node:fs';
import path from 'node:path';
import { writeWeights } from '../io/checkpoint.js';
import { writeTextAtomic } from '../io/safetensors.js';
import type { Backbone } from './backbone.js';
import { architectureOf } from './registry.js';

export interface SaveOptions {
  /** A folder whose tokenizer.json / tokenizer_config.json / vocab.txt are copied alongside. */
  tokenizerFrom?: string;
  /** Extra config fields (e.g. id2label, label2id, finetuning_task). */
  extraConfig?: Record<string, unknown>;
  /** Shard size limit (default 5 GB, as transformers). */
  maxShardBytes?: number;
  /** Storage type of the float weights (default float32); loading converts back to float32. */
  dtype?: 'float32' | 'float16';
}

export function saveModel(model: Backbone, dir: string, o: SaveOptions = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const dtype = o.dtype ?? 'float32';
  const config = {
    ...architectureOf(model.config).configJson(model.config),
    architectures: [model.architectureName],
    ...o.extraConfig,
    torch_dtype: dtype,
  };
  const stored = (data: unknown) =>
    dtype === 'float16' && data instanceof Float32Array ? { dtype: 'F16' as const } : {};
  writeWeights(
    dir,
    Object.fromEntries(
      model.weights
        .entries()
        .map(([n, w]) => [model.storedName(n), { shape: w.shape, data: w.data, ...stored(w.data) }]),
    ),
    { metadata: { format: 'pt' }, maxShardBytes: o.maxShardBytes }, // transformers expects format=pt
  );
  writeTextAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (o.tokenizerFrom) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) {
      const src = path.join(o.tokenizerFrom, f);
      if (fs.existsSync(src)) fs.copyFileSync(src, path.join(dir, f));
    }
  }
}
