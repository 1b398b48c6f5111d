// What an architecture family module provides to the registry (src/models/registry.ts): its
// config.json parsing, weight layout, construction and cost model. Everything else specific to it
// lives on its Backbone class (src/models/backbone.ts), so code outside asks the model, never
// switches on its type.
import type { Backbone } from './backbone.js';
import type { ConfigReader } from './config-reader.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

/** The sizes code outside an architecture needs, whatever its config.json calls them. */
export interface ConfigDims {
  /** Residual-stream layers a split point l falls between (T5: encoder blocks). */
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  /** Longest input its position embeddings allow (Infinity for relative / rotary positions). */
  maxPositions: number;
  /** The id that fills padded positions (config pad_token_id; 0 where a decoder has none). */
  padId: number;
}

/** A model's shape in the numbers every family has; src/models/presets.ts names a few (tiny ... base). */
export interface ModelSize {
  layers: number;
  hidden: number;
  heads: number;
  /** BERT's feed-forward width at this size; a family with another feed-forward sizes its own to match. */
  ffn: number;
}

/** How a family starts from random weights (pretraining or fine-tuning from scratch). */
export interface FreshModels {
  /** config.json fields of a model of `size` (model_type aside); callers' overrides go on top. */
  configFields(size: ModelSize): Record<string, unknown>;
  /** The optional weights a classifier made from random weights gets (BERT: pooler and classifier). */
  classifierHeads(name: string): boolean;
}

/** How `revmux pretrain` trains a model of this family from text (src/train/pretrain.ts). */
export interface Pretraining {
  /**
   * 'masked-lm': an encoder with BERT's MLM head (cls.predictions.*) reads the whole sequence;
   * 'next-token': a LLaMA-layout decoder predicts each next token through its output layer;
   * 'span-corruption': an encoder-decoder writes back the spans cut from its input (T5).
   */
  objective: 'masked-lm' | 'next-token' | 'span-corruption';
  /** The optional weights a model made for pretraining gets (BERT: the MLM head; a tied decoder: none). */
  heads(name: string): boolean;
  /** config.json fields that set hidden and attention dropout to p; absent where the family has no dropout. */
  dropoutFields?(p: number): Record<string, unknown>;
  /**
   * Steps scaled by each tensor's RMS (AdamW's `scaleByRms`): for an initialisation whose scales span orders of
   * magnitude (T5: embeddings at 1, queries at (d_model d_kv)^-1/2), where one plain rate is too slow for some
   * tensors and too fast for others.
   */
  scaledSteps?: boolean;
  /** config.json fields a fresh model takes from its tokenizer (T5: pad, end-of-sequence and decoder start ids). */
  tokenFields?(tok: TextTokenizer): Record<string, unknown>;
}

export interface Architecture<C extends { model_type: string } = { model_type: string }> {
  /** config.json (model_type already matched) with transformers' defaults for absent fields. */
  parseConfig(r: ConfigReader): C;
  dims(c: C): ConfigDims;
  weightSpecs(c: C): WeightSpec[];
  /** Stored tensor name -> the name the architecture uses (task-model prefixes, legacy names). */
  canonicalName(stored: string): string;
  /** Stored tensors it skips, as transformers does (buffers, tied copies, other task heads). */
  readonly ignorable: Ignorable;
  /** The config as config.json holds it for transformers (its field names; no fields of ours). */
  configJson(c: C): Record<string, unknown>;
  /** Standard deviation of a weight's random initialisation, as transformers initialises it. */
  initStd(c: C, name: string): number;
  build(c: C, weights: Weights, source: string): Backbone;
  /** FLOPs of one residual-stream layer over S tokens (a multiply-add counts 2). */
  layerFlops(c: C, S: number): number;
  /** FLOPs after the residual layers that run once per (multiplexed) row: BERT's pooler, T5's decoder over T steps. */
  sharedTailFlops(c: C, S: number, T: number): number;
  /** Present where models of this family can be made from random weights at a named size. */
  readonly fresh?: FreshModels;
  /** Present where `revmux pretrain` can train (or continue training) models of this family. */
  readonly pretraining?: Pretraining;
}
