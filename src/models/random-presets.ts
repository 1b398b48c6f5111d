// Random-weight models of well-known shapes, for speed measurements without downloads.
import type { Backbone } from './backbone.js';
import { parseConfig } from './config.js';
import { createModel } from './init.js';
import { presetConfig } from './presets.js';

export const RANDOM_MODELS = ['bert-base', 'bert-small', 'bert-mini', 'bert-tiny', 't5-small', 'llama-tiny'] as const;

export function randomModel(name: string, seed = 0): Backbone {
  const bert = /^bert-(base|small|mini|tiny)$/.exec(name);
  if (bert)
    return createModel(
      presetConfig('bert', bert[1], { num_labels: 2 }),
      { seed, heads: (n) => !n.startsWith('cls.') },
    );
  if (name === 't5-small')
    return createModel(
      parseConfig({
        model_type: 't5',
        d_model: 512,
        d_kv: 64,
        d_ff: 2048,
        num_layers: 6,
        num_heads: 8,
        vocab_size: 32128,
      }),
      { seed },
    );
  if (name === 'llama-tiny')
    return createModel(
      parseConfig({
        model_type: 'llama',
        hidden_size: 256,
        intermediate_size: 688,
        num_hidden_layers: 4,
        num_attention_heads: 8,
        num_key_value_heads: 4,
        vocab_size: 32000,
      }),
      { seed },
    );
  throw new Error(`--random must be one of ${RANDOM_MODELS.join(', ')}, got '${name}'`);
}
