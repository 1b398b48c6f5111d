// Typed configs that mirror Hugging Face config.json (same snake_case field names), with the
// defaults transformers uses when a field is absent. Parsing checks types and ranges and names the
// file and field on error.
import fs from 'node:fs';
import path from 'node:path';
import type { Activation } from '../nn/layers.js';

export interface BaseConfig {
  architectures?: string[];
  /** Hugging Face label maps, when the checkpoint is a classifier. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  _name_or_path?: string;
}

export interface BertConfig extends BaseConfig {
  model_type: 'bert';
  vocab_size: number; // 30522
  hidden_size: number; // 768
  num_hidden_layers: number; // 12
  num_attention_heads: number; // 12
  intermediate_size: number; // 3072
  hidden_act: Activation; // 'gelu' (erf)
  hidden_dropout_prob: number; // 0.1
  attention_probs_dropout_prob: number; // 0.1
  max_position_embeddings: number; // 512
  type_vocab_size: number; // 2
  layer_norm_eps: number; // 1e-12
  pad_token_id: number; // 0
  position_embedding_type: 'absolute';
  /** Dropout before the classifier; null = hidden_dropout_prob. */
  classifier_dropout: number | null;
  num_labels: number; // from id2label, default 2
  initializer_range: number; // 0.02
}

export interface T5Config extends BaseConfig {
  model_type: 't5';
  vocab_size: number; // 32128
  d_model: number; // 512
  d_kv: number; // 64
  d_ff: number; // 2048
  num_layers: number; // 6 encoder blocks
  num_decoder_layers: number; // = num_layers
  num_heads: number; // 8
  relative_attention_num_buckets: number; // 32
  relative_attention_max_distance: number; // 128
  dropout_rate: number; // 0.1
  layer_norm_epsilon: number; // 1e-6
  /** 'relu' (v1.0), 'gated-gelu' (v1.1: gelu_new gate), or '[gated-]<act>'. */
  feed_forward_proj: string;
  tie_word_embeddings: boolean; // true; tied heads scale the decoder output by d_model^-0.5
  pad_token_id: number; // 0
  eos_token_id: number; // 1
  decoder_start_token_id: number; // 0
  initializer_factor: number; // 1.0
}

export interface RopeScaling {
  rope_type: 'linear' | 'llama3' | 'default';
  factor: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

export interface LlamaConfig extends BaseConfig {
  model_type: 'llama';
  vocab_size: number; // 32000
  hidden_size: number; // 4096
  intermediate_size: number; // 11008
  num_hidden_layers: number; // 32
  num_attention_heads: number; // 32
  num_key_value_heads: number; // = num_attention_heads (grouped-query attention when fewer)
  head_dim: number; // = hidden_size / num_attention_heads
  hidden_act: Activation; // 'silu'
  max_position_embeddings: number; // 2048
  rms_norm_eps: number; // 1e-6
  rope_theta: number; // 10000
  rope_scaling: RopeScaling | null;
  attention_bias: boolean; // false
  mlp_bias: boolean; // false
  tie_word_embeddings: boolean; // false
  bos_token_id: number | null; // 1
  eos_token_id: number | number[] | null; // 2
  pad_token_id: number | null;
  initializer_range: number; // 0.02
}

export type ModelConfig = BertConfig | T5Config | LlamaConfig;
export const SUPPORTED_MODEL_TYPES = ['bert', 't5', 'llama'] as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

/** Reads typed fields with defaults, reporting `file: field ...` on a bad value. */
class Reader {
  constructor(
    private readonly json: Json,
    private readonly where: string,
  ) {}

  private fail(field: string, want: string): never {
    throw new ConfigError(`${this.where}: "${field}" must be ${want}, got ${JSON.stringify(this.json[field])}`);
  }

  int(field: string, dflt?: number, min = 1): number {
    const v = this.json[field] ?? dflt;
    if (v === undefined) throw new ConfigError(`${this.where}: missing required field "${field}"`);
    if (!Number.isInteger(v) || (v as number) < min) this.fail(field, `an integer >= ${min}`);
    return v as number;
  }

  num(field: string, dflt: number, min = 0, max = Infinity): number {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(field, `a number in [${min}, ${max}]`);
    return v as number;
  }

  bool(field: string, dflt: boolean): boolean {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v as boolean;
  }

  str<T extends string>(field: string, dflt: T, allowed?: readonly T[]): T {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'string' || (allowed && !allowed.includes(v as T))) this.fail(field, allowed ? `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}` : 'a string');
    return v as T;
  }

  optInt(field: string, min = 0): number | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    if (!Number.isInteger(v) || (v as number) < min) this.fail(field, `an integer >= ${min} or null`);
    return v as number;
  }

  base(): BaseConfig {
    const b: BaseConfig = {};
    if (Array.isArray(this.json.architectures)) b.architectures = this.json.architectures as string[];
    if (this.json.id2label && typeof this.json.id2label === 'object') b.id2label = this.json.id2label as Record<string, string>;
    if (this.json.label2id && typeof this.json.label2id === 'object') b.label2id = this.json.label2id as Record<string, number>;
    if (typeof this.json._name_or_path === 'string') b._name_or_path = this.json._name_or_path;
    return b;
  }
}

const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'tanh'];

export function parseConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${where}: not a JSON object`);
  const j = json as Json;
  const r = new Reader(j, where);
  const type = j.model_type;
  switch (type) {
    case 'bert':
      return parseBert(j, r);
    case 't5':
      return parseT5(r);
    case 'llama':
      return parseLlama(j, r);
    default:
      throw new ConfigError(`${where}: model_type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
}

function numLabels(j: Json, r: Reader): number {
  if (j.id2label && typeof j.id2label === 'object') return Object.keys(j.id2label).length;
  return r.int('num_labels', 2);
}

function parseBert(j: Json, r: Reader): BertConfig {
  const c: BertConfig = {
    ...r.base(),
    model_type: 'bert',
    vocab_size: r.int('vocab_size', 30522),
    hidden_size: r.int('hidden_size', 768),
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads: r.int('num_attention_heads', 12),
    intermediate_size: r.int('intermediate_size', 3072),
    hidden_act: r.str('hidden_act', 'gelu', ACTIVATIONS),
    hidden_dropout_prob: r.num('hidden_dropout_prob', 0.1, 0, 0.99),
    attention_probs_dropout_prob: r.num('attention_probs_dropout_prob', 0.1, 0, 0.99),
    max_position_embeddings: r.int('max_position_embeddings', 512),
    type_vocab_size: r.int('type_vocab_size', 2),
    layer_norm_eps: r.num('layer_norm_eps', 1e-12, 0, 1),
    pad_token_id: r.int('pad_token_id', 0, 0),
    position_embedding_type: r.str('position_embedding_type', 'absolute', ['absolute'] as const),
    classifier_dropout: j.classifier_dropout === undefined || j.classifier_dropout === null ? null : r.num('classifier_dropout', 0.1, 0, 0.99),
    num_labels: numLabels(j, r),
    initializer_range: r.num('initializer_range', 0.02),
  };
  if (c.hidden_size % c.num_attention_heads !== 0) throw new ConfigError(`config: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  return c;
}

function parseT5(r: Reader): T5Config {
  const numLayers = r.int('num_layers', 6);
  const c: T5Config = {
    ...r.base(),
    model_type: 't5',
    vocab_size: r.int('vocab_size', 32128),
    d_model: r.int('d_model', 512),
    d_kv: r.int('d_kv', 64),
    d_ff: r.int('d_ff', 2048),
    num_layers: numLayers,
    num_decoder_layers: r.optInt('num_decoder_layers', 1) ?? numLayers,
    num_heads: r.int('num_heads', 8),
    relative_attention_num_buckets: r.int('relative_attention_num_buckets', 32, 2),
    relative_attention_max_distance: r.int('relative_attention_max_distance', 128, 2),
    dropout_rate: r.num('dropout_rate', 0.1, 0, 0.99),
    layer_norm_epsilon: r.num('layer_norm_epsilon', 1e-6, 0, 1),
    feed_forward_proj: r.str('feed_forward_proj', 'relu'),
    tie_word_embeddings: r.bool('tie_word_embeddings', true),
    pad_token_id: r.int('pad_token_id', 0, 0),
    eos_token_id: r.int('eos_token_id', 1, 0),
    decoder_start_token_id: r.int('decoder_start_token_id', 0, 0),
    initializer_factor: r.num('initializer_factor', 1),
  };
  t5FeedForward(c); // validates feed_forward_proj
  return c;
}

/** How a T5 feed-forward is built from feed_forward_proj, as transformers parses it. */
export function t5FeedForward(c: T5Config): { gated: boolean; act: Activation } {
  const parts = c.feed_forward_proj.split('-');
  const gated = parts[0] === 'gated';
  if ((gated && parts.length !== 2) || (!gated && parts.length !== 1)) throw new ConfigError(`config: feed_forward_proj ${JSON.stringify(c.feed_forward_proj)} must be '<act>' or 'gated-<act>'`);
  let act = parts[parts.length - 1] as Activation;
  if (c.feed_forward_proj === 'gated-gelu') act = 'gelu_new'; // transformers' backwards-compatible special case
  if (!ACTIVATIONS.includes(act)) throw new ConfigError(`config: feed_forward_proj activation '${act}' is not supported (${ACTIVATIONS.join(', ')})`);
  return { gated, act };
}

function parseLlama(j: Json, r: Reader): LlamaConfig {
  const hidden = r.int('hidden_size', 4096);
  const heads = r.int('num_attention_heads', 32);
  const kv = r.optInt('num_key_value_heads', 1) ?? heads;
  const headDim = r.optInt('head_dim', 1) ?? hidden / heads;
  if (!Number.isInteger(headDim)) throw new ConfigError(`config: hidden_size ${hidden} is not divisible by num_attention_heads ${heads} (set head_dim)`);
  if (heads % kv !== 0) throw new ConfigError(`config: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kv}`);
  let rope: RopeScaling | null = null;
  if (j.rope_scaling && typeof j.rope_scaling === 'object') {
    const rs = j.rope_scaling as Json;
    const kind = (rs.rope_type ?? rs.type) as string;
    if (!['linear', 'llama3', 'default'].includes(kind)) throw new ConfigError(`config: rope_scaling type ${JSON.stringify(kind)} is not supported (linear, llama3)`);
    rope = { ...(rs as object), rope_type: kind as RopeScaling['rope_type'], factor: Number(rs.factor ?? 1) } as RopeScaling;
  }
  const eos = j.eos_token_id;
  return {
    ...r.base(),
    model_type: 'llama',
    vocab_size: r.int('vocab_size', 32000),
    hidden_size: hidden,
    intermediate_size: r.int('intermediate_size', 11008),
    num_hidden_layers: r.int('num_hidden_layers', 32),
    num_attention_heads: heads,
    num_key_value_heads: kv,
    head_dim: headDim,
    hidden_act: r.str('hidden_act', 'silu', ACTIVATIONS),
    max_position_embeddings: r.int('max_position_embeddings', 2048),
    rms_norm_eps: r.num('rms_norm_eps', 1e-6, 0, 1),
    rope_theta: r.num('rope_theta', 10000, 1),
    rope_scaling: rope,
    attention_bias: r.bool('attention_bias', false),
    mlp_bias: r.bool('mlp_bias', false),
    tie_word_embeddings: r.bool('tie_word_embeddings', false),
    bos_token_id: r.optInt('bos_token_id'),
    eos_token_id: Array.isArray(eos) ? (eos as number[]) : r.optInt('eos_token_id'),
    pad_token_id: r.optInt('pad_token_id'),
    initializer_range: r.num('initializer_range', 0.02),
  };
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
