// Loads a Hugging Face model folder (config.json + safetensors) into its family's backbone.
import { WeightStore } from '../io/checkpoint.js';
import type { Backbone } from './backbone.js';
import { readConfig } from './config.js';
import { architectureOf } from './registry.js';
import type { Precision } from '../nn/quantize.js';
import { Weights } from './weights.js';

export interface LoadOptions {
  /** int8: frozen Linear layers run dynamically quantized (nn/quantize.ts); default fp32. */
  precision?: Precision;
}

export function loadModel(dir: string, o: LoadOptions = {}): Backbone {
  const config = readConfig(dir);
  const arch = architectureOf(config);
  const store = WeightStore.open(dir);
  try {
    const weights = Weights.load(store, arch.weightSpecs(config), arch.canonicalName, arch.ignorable);
    weights.precision = o.precision ?? 'fp32';
    return arch.build(config, weights, dir);
  } finally {
    store.close();
  }
}
