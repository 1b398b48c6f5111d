// Typed configs that mirror Hugging Face config.json (same snake_case field names), with the
// defaults transformers uses when a field is absent. Each family parses its own (src/models/<family>.ts,
// through config-reader.ts); this module dispatches on model_type through the registry.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, ConfigReader, type Json } from './config-reader.js';
import { ARCHITECTURES, type ModelConfig, SUPPORTED_MODEL_TYPES, isSupported } from './registry.js';

export { ConfigError } from './config-reader.js';
export type { BaseConfig } from './config-reader.js';
export type { BertConfig } from './bert.js';
export type { LlamaConfig, RopeScaling } from './llama.js';
export type { T5Config } from './t5.js';
export { t5FeedForward } from './t5.js';
export { type ModelConfig, SUPPORTED_MODEL_TYPES } from './registry.js';

export function parseConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`${where}: not a JSON object`);
  const type = (json as Json).model_type;
  if (!isSupported(type))
    throw new ConfigError(
      `${where}: model_type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  return ARCHITECTURES[type].parseConfig(new ConfigReader(json as Json, where));
}

export function readConfig(dir: string): ModelConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new ConfigError(`${dir}: no config.json (is this a Hugging Face model folder?)`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, file);
}
