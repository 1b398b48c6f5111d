// Randomly initialised models of any config, initialised as transformers does (normal(0, std)
// weights, zero biases, unit norms), for pretraining from scratch, tests and speed benchmarks.
import { Rng } from '../engine/random.js';
import type { Backbone } from './backbone.js';
import { type ModelConfig, architectureOf } from './registry.js';
import { type HostWeight, type WeightSpec, Weights } from './weights.js';

export interface InitOptions {
  seed?: number;
  /** Also create the optional heads (default: all of them). */
  heads?: (name: string) => boolean;
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
    else data = rng.normalArray(n, architectureOf(config).initStd(config, s.name));
    map.set(s.name, { shape: s.shape, data });
  }
  return new Weights('random-init', map);
}

/** A randomly initialised backbone for `config`. */
export function createModel(config: ModelConfig, o: InitOptions = {}): Backbone {
  const arch = architectureOf(config);
  return arch.build(config, randomWeights(config, arch.weightSpecs(config), o), 'random-init');
}
