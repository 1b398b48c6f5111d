// Loads a Hugging Face model folder (config.json + safetensors) into the matching backbone.
import { WeightStore } from '../io/checkpoint.js';
import type { Backbone } from './backbone.js';
import { Bert } from './bert.js';
import { readConfig } from './config.js';
import { Llama } from './llama.js';
import { T5 } from './t5.js';
import { Weights } from './weights.js';

export function loadModel(dir: string): Backbone {
  const config = readConfig(dir);
  const store = WeightStore.open(dir);
  try {
    switch (config.model_type) {
      case 'bert':
        return new Bert(config, Weights.load(store, Bert.weightSpecs(config), Bert.canonicalName, Bert.ignorable), dir);
      case 't5':
        return new T5(config, Weights.load(store, T5.weightSpecs(config), T5.canonicalName, T5.ignorable), dir);
      case 'llama':
        return new Llama(config, Weights.load(store, Llama.weightSpecs(config), Llama.canonicalName, Llama.ignorable), dir);
    }
  } finally {
    store.close();
  }
}
