// Named model sizes (Google's BERT miniatures, Turc et al. 2019, plus base) for making backbones here
// from random weights, in any family whose module says how (`fresh` in its Architecture).
import type { Backbone } from './backbone.js';
import type { BertConfig } from './bert.js';
import type { ModelSize } from './architecture.js';
import { ConfigReader } from './config-reader.js';
import { createModel } from './init.js';
import type { LlamaConfig } from './llama.js';
import { ARCHITECTURES, type ModelConfig, type ModelType, isSupported } from './registry.js';

export const SIZES = {
  tiny: { layers: 2, hidden: 128, heads: 2, ffn: 512 },
  mini: { layers: 4, hidden: 256, heads: 4, ffn: 1024 },
  small: { layers: 4, hidden: 512, heads: 8, ffn: 2048 },
  medium: { layers: 8, hidden: 512, heads: 8, ffn: 2048 },
  base: { layers: 12, hidden: 768, heads: 12, ffn: 3072 },
} as const satisfies Record<string, ModelSize>;

export type SizeName = keyof typeof SIZES;

/** The families that can be made from random weights (bert, llama, t5). */
export const FRESH_MODEL_TYPES = (Object.keys(ARCHITECTURES) as ModelType[]).filter((t) => ARCHITECTURES[t].fresh);

function freshModule(modelType: string) {
  const arch = isSupported(modelType) ? ARCHITECTURES[modelType] : undefined;
  if (!arch?.fresh)
    throw new Error(
      `cannot make a ${JSON.stringify(modelType)} model from random weights (families that can: ` +
        `${FRESH_MODEL_TYPES.join(', ')})`,
    );
  return arch;
}

/** The shape of a named size, optionally with another number of layers. */
export function sizeOf(name: string, layers?: number): ModelSize {
  const s = SIZES[name as SizeName];
  if (!s) throw new Error(`unknown size '${name}' (known: ${Object.keys(SIZES).join(', ')})`);
  return layers ? { ...s, layers } : s;
}

/** A config of `modelType` at a named size; `overrides` are config.json fields on top. */
export function presetConfig(
  modelType: string,
  size: string | ModelSize,
  overrides: Record<string, unknown> = {},
): ModelConfig {
  const arch = freshModule(modelType);
  const shape = typeof size === 'string' ? sizeOf(size) : size;
  const where = typeof size === 'string' ? `preset ${size}` : 'preset';
  const json = { model_type: modelType, ...arch.fresh!.configFields(shape), ...overrides };
  return arch.parseConfig(new ConfigReader(json, where)) as ModelConfig;
}

/** A classifier of random weights: BERT with a fresh classifier, decoders / T5 answering with label words. */
export function freshClassifier(config: ModelConfig, seed: number): Backbone {
  return createModel(config, { seed, heads: (n) => freshModule(config.model_type).fresh!.classifierHeads(n) });
}

export function bertPreset(name: string, overrides: Record<string, unknown> = {}): BertConfig {
  return presetConfig('bert', name, overrides) as BertConfig;
}

export function llamaPreset(name: string, overrides: Record<string, unknown> = {}): LlamaConfig {
  return presetConfig('llama', name, overrides) as LlamaConfig;
}
