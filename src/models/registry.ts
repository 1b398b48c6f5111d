// model_type -> architecture module: the one table to extend when adding a backbone family
// (write src/models/<family>.ts exporting an Architecture and its Backbone class, add a line here).
import type { Architecture, ConfigDims } from './architecture.js';
import { BERT } from './bert.js';
import { DISTILBERT } from './distilbert.js';
import { LLAMA } from './llama.js';
import { QWEN2, QWEN3 } from './qwen.js';
import { ROBERTA, XLM_ROBERTA } from './roberta.js';
import { T5_FAMILY } from './t5.js';

export const ARCHITECTURES = {
  bert: BERT,
  roberta: ROBERTA,
  'xlm-roberta': XLM_ROBERTA,
  distilbert: DISTILBERT,
  t5: T5_FAMILY,
  llama: LLAMA,
  qwen2: QWEN2,
  qwen3: QWEN3,
} as const;

export type ModelType = keyof typeof ARCHITECTURES;
/** Every registered family's typed config, told apart by model_type. */
export type ModelConfig = (typeof ARCHITECTURES)[ModelType] extends infer A
  ? A extends Architecture<infer C>
    ? C
    : never
  : never;
export const SUPPORTED_MODEL_TYPES = Object.keys(ARCHITECTURES) as ModelType[];

export function isSupported(modelType: unknown): modelType is ModelType {
  return typeof modelType === 'string' && Object.hasOwn(ARCHITECTURES, modelType);
}

/** The module of a config's family (typed loosely: the config and the module match by construction). */
export function architectureOf(c: { model_type: string }): Architecture<ModelConfig> {
  if (!isSupported(c.model_type))
    throw new Error(
      `model_type ${JSON.stringify(c.model_type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  return ARCHITECTURES[c.model_type] as unknown as Architecture<ModelConfig>;
}

/** Layers, hidden size, heads, vocabulary and position limit of any registered config. */
export function dims(c: ModelConfig): ConfigDims {
  return architectureOf(c).dims(c);
}
