// Loads a Hugging Face model folder (config.json + safetensors) into its family's backbone.
import { WeightStore } from '../io/checkpoint.js';
import type { Backbone } from './backbone.js';
import { readConfig } from './config.js';
import { architectureOf } from './registry.js';
import { Weights } from './weights.js';

export function loadModel(dir: string): Backbone {
  const config = readConfig(dir);
  const arch = architectureOf(config);
  const store = WeightStore.open(dir);
  try {
    return arch.build(config, Weights.load(store, arch.weightSpecs(config), arch.canonicalName, arch.ignorable), dir);
  } finally {
    store.close();
  }
}
