// Random-weight models of well-known shapes, for speed measurements without downloads.
import type { Backbone } from './backbone.js';
import { parseConfig } from './config.js';
import { createModel } from './init.js';
import { FRESH_MODEL_TYPES, SIZES, freshClassifier, presetConfig } from './presets.js';

/** Two public checkpoints' shapes, kept under their own names (they differ from this project's named sizes). */
const PUBLIC_SHAPES: Record<string, Record<string, unknown>> = {
  't5-small': { model_type: 't5', d_model: 512, d_kv: 64, d_ff: 2048, num_layers: 6, num_heads: 8, vocab_size: 32128 },
  'llama-tiny': {
    model_type: 'llama',
    hidden_size: 256,
    intermediate_size: 688,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    vocab_size: 32000,
  },
};

/** `<family>-<size>` for every family that can be made from random weights (so `llama-base` is the LLaMA layout
 * at BERT-base's size), then the public shapes. */
export const RANDOM_MODELS = [
  ...FRESH_MODEL_TYPES.flatMap((t) => Object.keys(SIZES).map((s) => `${t}-${s}`)).filter((n) => !PUBLIC_SHAPES[n]),
  ...Object.keys(PUBLIC_SHAPES),
];

export function randomModel(name: string, seed = 0): Backbone {
  if (PUBLIC_SHAPES[name]) return createModel(parseConfig(PUBLIC_SHAPES[name]), { seed });
  const named = /^(\w+)-(\w+)$/.exec(name);
  if (named && RANDOM_MODELS.includes(name))
    return freshClassifier(presetConfig(named[1], named[2], { num_labels: 2 }), seed);
  throw new Error(`--random must be one of ${RANDOM_MODELS.join(', ')}, got '${name}'`);
}
