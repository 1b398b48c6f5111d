// Randomly initialised models of any config, initialised as transformers does (normal(0, std)
// weights, zero biases, unit norms), for pretraining from scratch, tests and speed benchmarks.
import { Rng } from '../engine/random.js';
import type { Backbone } from './backbone.js';
import { Bert } from './bert.js';
import type { ModelConfig } from './config.js';
import { Llama } from './llama.js';
import { T5 } from './t5.js';
import { type HostWeight, type WeightSpec, Weights } from './weights.js';

export interface InitOptions {
  seed?: number;
  /** Also create the optional heads (default: all of them). */
  heads?: (name: string) => boolean;
}

function initStd(c: ModelConfig, name: string): number {
  if (c.model_type === 't5') {
    // T5's scheme (T5PreTrainedModel._init_weights), with initializer_factor
    const f = c.initializer_factor;
    if (/\.(q)\.weight$/.test(name)) return f * (c.d_model * c.d_kv) ** -0.5;
    if (/\.(k|v)\.weight$/.test(name)) return f * c.d_model ** -0.5;
    if (/\.o\.weight$/.test(name)) return f * (c.num_heads * c.d_kv) ** -0.5;
    if (/wi(_\d)?\.weight$/.test(name)) return f * c.d_model ** -0.5;
    if (/wo\.weight$/.test(name)) return f * c.d_ff ** -0.5;
    if (/relative_attention_bias/.test(name)) return f * c.d_model ** -0.5;
    return f * 1.0; // shared embeddings, lm_head
  }
  return c.initializer_range;
}

export function randomWeights(config: ModelConfig, specs: WeightSpec[], o: InitOptions = {}): Weights {
  const rng = new Rng(o.seed ?? 0);
  const map = new Map<string, HostWeight>();
  for (const s of specs) {
    if (s.optional && !(o.heads ?? (() => true))(s.name)) continue;
    const n = s.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/(LayerNorm|layer_norm|layernorm|norm)\.weight$/.test(s.name)) data = new Float32Array(n).fill(1);
    else if (s.name.endsWith('.bias') && !s.name.includes('relative_attention_bias')) data = new Float32Array(n);
    else data = rng.normalArray(n, initStd(config, s.name));
    map.set(s.name, { shape: s.shape, data });
  }
  return new Weights('random-init', map);
}

/** A randomly initialised backbone for `config`. */
export function createModel(config: ModelConfig, o: InitOptions = {}): Backbone {
  switch (config.model_type) {
    case 'bert':
      return new Bert(config, randomWeights(config, Bert.weightSpecs(config), o), 'random-init');
    case 't5':
      return new T5(config, randomWeights(config, T5.weightSpecs(config), o), 'random-init');
    case 'llama':
      return new Llama(config, randomWeights(config, Llama.weightSpecs(config), o), 'random-init');
  }
}
