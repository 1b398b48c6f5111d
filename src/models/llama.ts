// LLaMA as transformers' LlamaForCausalLM: pre-norm RMSNorm layers, rotate-half rotary embeddings
// (rope_theta, optional linear / llama3 scaling), grouped-query attention, SwiGLU MLP, final norm,
// tied or untied LM head. Positions are 0..S-1 (right padding).
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { activation, linear, paddingMaskBias, rmsNorm } from '../nn/layers.js';
import {
  type Backbone,
  type BackboneGraph,
  type BindOptions,
  type LayerContext,
  type ModelInputs,
  positions,
} from './backbone.js';
import type { Example, Task } from '../data/glue.js';
import { labelWordIds } from '../data/formats.js';
import { TASKS } from '../data/glue.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import { type AnswerVectors, type MuxHead, gatherRows, labelLogits, lastTokenPositions } from '../mux/heads.js';
import type { Architecture } from './architecture.js';
import { checkRange } from './bert.js';
import type { Activation } from '../nn/layers.js';
import { ACTIVATIONS, type BaseConfig, ConfigError, type ConfigReader, type Json } from './config-reader.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

export interface RopeScaling {
  rope_type: 'linear' | 'llama3' | 'default';
  factor: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** LLaMA and the decoders that share its layout (Qwen2, Qwen3: src/models/qwen.ts). */
export interface LlamaConfig extends BaseConfig {
  model_type: 'llama' | 'qwen2' | 'qwen3';
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
  /** Layout, set by the family's parser (not a transformers field): biases on q/k/v only (Qwen2). */
  qkv_bias: boolean; // = attention_bias
  /** Layout, set by the family's parser: per-head RMSNorm of queries and keys before RoPE (Qwen3). */
  qk_norm: boolean; // false
}

/** Defaults of a LLaMA-layout family's config.json, where they differ between families. */
export interface DecoderDefaults {
  vocab_size: number;
  intermediate_size: number;
  max_position_embeddings: number;
  rope_theta: number;
  /** null: hidden_size / num_attention_heads. */
  head_dim: number | null;
}

const LLAMA_DEFAULTS: DecoderDefaults = {
  vocab_size: 32000,
  intermediate_size: 11008,
  max_position_embeddings: 2048,
  rope_theta: 10000,
  head_dim: null,
};

/** A LLaMA-layout config.json with a family's defaults and layout (see qwen.ts for the other families). */
export function parseDecoderConfig(
  r: ConfigReader,
  model_type: LlamaConfig['model_type'],
  dflt: DecoderDefaults,
  layout: (c: LlamaConfig) => Partial<Pick<LlamaConfig, 'qkv_bias' | 'qk_norm' | 'attention_bias'>>,
): LlamaConfig {
  const j = r.json;
  const hidden = r.int('hidden_size', 4096);
  const heads = r.int('num_attention_heads', 32);
  const kv = r.optInt('num_key_value_heads', 1) ?? heads;
  const headDim = r.optInt('head_dim', 1) ?? dflt.head_dim ?? hidden / heads;
  if (!Number.isInteger(headDim))
    throw new ConfigError(
      `config: hidden_size ${hidden} is not divisible by num_attention_heads ${heads} (set head_dim)`,
    );
  if (heads % kv !== 0)
    throw new ConfigError(`config: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kv}`);
  let rope: RopeScaling | null = null;
  if (j.rope_scaling && typeof j.rope_scaling === 'object') {
    const rs = j.rope_scaling as Json;
    const kind = (rs.rope_type ?? rs.type) as string;
    if (!['linear', 'llama3', 'default'].includes(kind))
      throw new ConfigError(`config: rope_scaling type ${JSON.stringify(kind)} is not supported (linear, llama3)`);
    rope = {
      ...(rs as object),
      rope_type: kind as RopeScaling['rope_type'],
      factor: Number(rs.factor ?? 1),
    } as RopeScaling;
  }
  if (j.use_sliding_window === true)
    throw new ConfigError(`${r.where}: use_sliding_window is not supported (full attention only)`);
  const eos = j.eos_token_id;
  const c: LlamaConfig = {
    ...r.base(),
    model_type,
    vocab_size: r.int('vocab_size', dflt.vocab_size),
    hidden_size: hidden,
    intermediate_size: r.int('intermediate_size', dflt.intermediate_size),
    num_hidden_layers: r.int('num_hidden_layers', 32),
    num_attention_heads: heads,
    num_key_value_heads: kv,
    head_dim: headDim,
    hidden_act: r.str('hidden_act', 'silu', ACTIVATIONS),
    max_position_embeddings: r.int('max_position_embeddings', dflt.max_position_embeddings),
    rms_norm_eps: r.num('rms_norm_eps', 1e-6, 0, 1),
    rope_theta: r.num('rope_theta', dflt.rope_theta, 1),
    rope_scaling: rope,
    attention_bias: r.bool('attention_bias', false),
    mlp_bias: r.bool('mlp_bias', false),
    tie_word_embeddings: r.bool('tie_word_embeddings', false),
    bos_token_id: r.optInt('bos_token_id'),
    eos_token_id: Array.isArray(eos) ? (eos as number[]) : r.optInt('eos_token_id'),
    pad_token_id: r.optInt('pad_token_id'),
    initializer_range: r.num('initializer_range', 0.02),
    qkv_bias: false,
    qk_norm: false,
  };
  return { ...c, ...layout(c) };
}

const parseLlamaConfig = (r: ConfigReader) =>
  parseDecoderConfig(r, 'llama', LLAMA_DEFAULTS, (c) => ({ qkv_bias: c.attention_bias, qk_norm: false }));

export interface LlamaContext extends LayerContext {
  /** Causal + padding bias, [B, 1, 1, S, S] (the extra axis is the query group of GQA). */
  bias: Value;
  /** Rotary tables [S, head_dim]. */
  cos: Value;
  sin: Value;
}

export class Llama implements Backbone<LlamaContext> {
  readonly usesTokenTypes = false;
  readonly forwardInputs = [];

  constructor(
    readonly config: LlamaConfig,
    readonly weights: Weights,
    readonly source: string,
    /** transformers' class name for this family (Qwen2ForCausalLM, ...), written on save. */
    readonly architectureName = 'LlamaForCausalLM',
  ) {}

  get modelType(): string {
    return this.config.model_type;
  }

  get numLayers(): number {
    return this.config.num_hidden_layers;
  }

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  static canonicalName(stored: string): string {
    return stored;
  }

  /** Rotary inverse-frequency buffers that older checkpoints store (recomputed from the config). */
  static readonly ignorable: Ignorable = [/rotary_emb\.inv_freq$/];

  static weightSpecs(c: LlamaConfig): WeightSpec[] {
    const d = c.hidden_size;
    const q = c.num_attention_heads * c.head_dim;
    const kv = c.num_key_value_heads * c.head_dim;
    const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocab_size, d] }];
    const lin = (name: string, out: number, inp: number, bias: boolean) => {
      specs.push({ name: `${name}.weight`, shape: [out, inp] });
      if (bias) specs.push({ name: `${name}.bias`, shape: [out] });
    };
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const p = `model.layers.${i}`;
      specs.push({ name: `${p}.input_layernorm.weight`, shape: [d] });
      lin(`${p}.self_attn.q_proj`, q, d, c.qkv_bias);
      lin(`${p}.self_attn.k_proj`, kv, d, c.qkv_bias);
      lin(`${p}.self_attn.v_proj`, kv, d, c.qkv_bias);
      lin(`${p}.self_attn.o_proj`, d, q, c.attention_bias);
      if (c.qk_norm) {
        specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.head_dim] });
        specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.head_dim] });
      }
      specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [d] });
      lin(`${p}.mlp.gate_proj`, c.intermediate_size, d, c.mlp_bias);
      lin(`${p}.mlp.up_proj`, c.intermediate_size, d, c.mlp_bias);
      lin(`${p}.mlp.down_proj`, d, c.intermediate_size, c.mlp_bias);
    }
    specs.push({ name: 'model.norm.weight', shape: [d] });
    specs.push({ name: 'lm_head.weight', shape: [c.vocab_size, d], optional: c.tie_word_embeddings });
    return specs;
  }

  bind(g: Graph, opts: BindOptions = {}): LlamaGraph {
    return new LlamaGraph(this, g, opts);
  }

  storedName(name: string): string {
    return name;
  }

  /**
   * A plain instruction prompt ending where the answer word would start (no chat template: not
   * every LLaMA tokenizer has one); the answer is read at the last real token.
   */
  formatExample(task: Task, e: Example): Example {
    const words = TASKS[task].labelWords.join(' or ');
    const body = e.textB === undefined ? `Sentence: ${e.textA}` : `Sentence 1: ${e.textA}\nSentence 2: ${e.textB}`;
    return { label: e.label, textA: `${body}\nAnswer with ${words}. Answer:` };
  }

  labelTokenIds(tok: TextTokenizer, task: Task): [number, number] {
    return labelWordIds(tok, task, { leadingSpace: true });
  }

  taskHead(o: { labelIds: [number, number] | null }): MuxHead {
    if (!o.labelIds)
      throw new Error(`${this.source}: ${this.modelType} answers with label words: their token ids are needed`);
    return new LastTokenHead(
      this.config.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
      o.labelIds,
    );
  }

  /** The label words are answered through the LM head the checkpoint already has. */
  prepareForFinetuning(): void {}

  finetunes(): boolean {
    return true;
  }
}

/** Layers [l, L) + final norm at each instance's last real token; logits = the label words' LM-head rows. */
class LastTokenHead implements MuxHead {
  readonly perInstance = true;
  constructor(
    private readonly table: string,
    private readonly labelIds: [number, number],
  ) {}
  answerInputs(mask: Value): Record<string, Value> {
    return { answer_pos: lastTokenPositions(mask) }; // [G, N] when grouped, [B, 1] for SISO
  }
  mixed(
    bg: BackboneGraph<LayerContext>,
    h: Value,
    mask: Value,
    l: number,
    extra: Record<string, Value>,
  ): AnswerVectors {
    const b = bg as LlamaGraph;
    const hL = b.finalNorm(b.layers(h, b.context(mask), l, b.model.numLayers));
    return { answer: gatherRows(hL, extra.answer_pos), nce: null };
  }
  logits(bg: BackboneGraph<LayerContext>, y: Value): Value {
    return labelLogits(bg, this.table, this.labelIds, y);
  }
  siso(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>) {
    const b = bg as LlamaGraph;
    const hL = b.finalNorm(b.layers(h, b.context(mask), l, b.model.numLayers));
    const t = op.squeeze(gatherRows(hL, extra.answer_pos), [1]);
    return { logits: this.logits(b, t), teacher: t };
  }
}

/** A LLaMA-layout family's registry entry: its parser and transformers class name. */
export function decoderFamily(
  parseConfig: (r: ConfigReader) => LlamaConfig,
  architectureName: string,
): Architecture<LlamaConfig> {
  // loaded only: LLaMA's sizes would not give these families' defaults (Qwen3's head_dim) a meaning
  return {
    ...LLAMA,
    parseConfig,
    build: (c, w, source) => new Llama(c, w, source, architectureName),
    fresh: undefined,
  };
}

/** LLaMA's entry in the registry. */
export const LLAMA: Architecture<LlamaConfig> = {
  parseConfig: parseLlamaConfig,
  dims: (c) => ({
    layers: c.num_hidden_layers,
    hidden: c.hidden_size,
    heads: c.num_attention_heads,
    vocab: c.vocab_size,
    maxPositions: Infinity,
    padId: c.pad_token_id ?? 0,
  }),
  weightSpecs: (c) => Llama.weightSpecs(c),
  canonicalName: (s) => Llama.canonicalName(s),
  ignorable: Llama.ignorable,
  configJson: ({ qkv_bias: _b, qk_norm: _n, ...c }) => c, // layout flags are ours, implied by model_type
  initStd: (c) => c.initializer_range,
  build: (c, w, source) => new Llama(c, w, source),
  layerFlops: (c, S) => {
    const q = c.num_attention_heads * c.head_dim;
    const kv = c.num_key_value_heads * c.head_dim;
    return 2 * S * c.hidden_size * (2 * q + 2 * kv) + 4 * S * S * q + 6 * S * c.hidden_size * c.intermediate_size;
  },
  sharedTailFlops: () => 0,
  fresh: {
    // SwiGLU's three matrices at 3/4 of BERT's FFN width keep the parameter count of the BERT size; tied embeddings
    configFields: (s) => ({
      vocab_size: 30522,
      hidden_size: s.hidden,
      num_hidden_layers: s.layers,
      num_attention_heads: s.heads,
      num_key_value_heads: s.heads,
      intermediate_size: (s.ffn * 3) / 4,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    }),
    classifierHeads: () => false, // label words through the tied output layer: no classifier to add
  },
  // Qwen2 / Qwen3 keep this (decoderFamily): a loaded Qwen folder continues next-token training the same way
  pretraining: { objective: 'next-token', heads: () => false }, // tied embeddings: no separate lm_head
};

/** Rotary inverse frequencies, as transformers computes them (incl. linear and llama3 scaling). */
export function ropeInverseFrequencies(c: LlamaConfig): Float32Array {
  const dim = c.head_dim;
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = 1 / c.rope_theta ** ((2 * i) / dim);
  const rs = c.rope_scaling;
  if (!rs || rs.rope_type === 'default') return inv;
  if (rs.rope_type === 'linear') return inv.map((f) => f / rs.factor);
  // llama3: keep high frequencies, divide low ones by factor, interpolate in between
  const low = rs.low_freq_factor ?? 1;
  const high = rs.high_freq_factor ?? 4;
  const oldLen = rs.original_max_position_embeddings ?? 8192;
  const lowWavelen = oldLen / low;
  const highWavelen = oldLen / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / rs.factor;
    const smooth = (oldLen / wavelen - low) / (high - low);
    return (1 - smooth) * (f / rs.factor) + smooth * f;
  });
}

export class LlamaGraph implements BackboneGraph<LlamaContext> {
  constructor(
    readonly model: Llama,
    readonly graph: Graph,
    /** LLaMA has no dropout: only `trainable` is used. */
    private readonly opts: BindOptions,
  ) {}

  weight(name: string): Value {
    return this.model.weights.value(this.graph, name, this.opts.trainable);
  }

  private get c(): LlamaConfig {
    return this.model.config;
  }

  private lin(x: Value, name: string, bias: boolean): Value {
    return linear(x, { weight: this.weight(`${name}.weight`), bias: bias ? this.weight(`${name}.bias`) : null });
  }

  embed(inputs: ModelInputs): Value {
    return op.gather(this.weight('model.embed_tokens.weight'), inputs.inputIds);
  }

  context(attentionMask: Value): LlamaContext {
    const g = this.graph;
    const pos = positions(attentionMask);
    const rel = op.sub(op.unsqueeze(pos, [0]), op.unsqueeze(pos, [1])); // key - query
    const causal = op.where(op.greater(rel, 0), -1e9, g.scalar(0, 'float32')); // [S, S]
    const bias = op.unsqueeze(op.add(causal, paddingMaskBias(attentionMask)), [1]); // [B, 1, 1, S, S]
    const inv = g.initializer(ropeInverseFrequencies(this.c), [this.c.head_dim / 2], 'float32');
    const freqs = op.mul(op.unsqueeze(op.cast(pos, 'float32'), [1]), inv); // [S, hd/2]
    const emb = op.concat([freqs, freqs], -1);
    return { attentionMask, bias, cos: op.cos(emb), sin: op.sin(emb) };
  }

  private rotate(x: Value, ctx: LlamaContext): Value {
    const half = this.c.head_dim / 2;
    const [x1, x2] = op.split(x, [half, half], -1);
    return op.add(op.mul(x, ctx.cos), op.mul(op.concat([op.neg(x2), x1], -1), ctx.sin));
  }

  private attention(p: string, x: Value, ctx: LlamaContext): Value {
    const c = this.c;
    const [B, S] = x.shape;
    const hd = c.head_dim;
    const kvh = c.num_key_value_heads;
    const group = c.num_attention_heads / kvh;
    const heads = (v: Value, n: number) => op.transpose(op.reshape(v, [B, S, n, hd]), [0, 2, 1, 3]); // [B, n, S, hd]
    // Qwen3: each head's query and key RMS-normalised over head_dim, before the rotation
    const norm = (v: Value, name: string) =>
      c.qk_norm ? rmsNorm(v, this.weight(`${p}.${name}.weight`), c.rms_norm_eps) : v;
    const q = this.rotate(norm(heads(this.lin(x, `${p}.q_proj`, c.qkv_bias), c.num_attention_heads), 'q_norm'), ctx);
    const k = this.rotate(norm(heads(this.lin(x, `${p}.k_proj`, c.qkv_bias), kvh), 'k_norm'), ctx);
    const v = heads(this.lin(x, `${p}.v_proj`, c.qkv_bias), kvh);
    // Grouped-query attention by broadcasting: query head h = kv * group + r uses key/value head kv.
    const qg = op.reshape(q, [B, kvh, group, S, hd]);
    const scores = op.add(op.mul(op.matmul(qg, op.transposeLast2(op.unsqueeze(k, [2]))), 1 / Math.sqrt(hd)), ctx.bias);
    const out = op.matmul(op.softmax(scores, -1), op.unsqueeze(v, [2])); // [B, kvh, group, S, hd]
    const merged = op.reshape(op.transpose(op.reshape(out, [B, c.num_attention_heads, S, hd]), [0, 2, 1, 3]), [
      B,
      S,
      c.num_attention_heads * hd,
    ]);
    return this.lin(merged, `${p}.o_proj`, c.attention_bias);
  }

  layers(h: Value, ctx: LlamaContext, from: number, to: number): Value {
    const c = this.c;
    checkRange(from, to, c.num_hidden_layers);
    for (let i = from; i < to; i++) {
      const p = `model.layers.${i}`;
      h = op.add(
        h,
        this.attention(`${p}.self_attn`, rmsNorm(h, this.weight(`${p}.input_layernorm.weight`), c.rms_norm_eps), ctx),
      );
      const x = rmsNorm(h, this.weight(`${p}.post_attention_layernorm.weight`), c.rms_norm_eps);
      const mlp = this.lin(
        op.mul(
          activation(this.lin(x, `${p}.mlp.gate_proj`, c.mlp_bias), c.hidden_act),
          this.lin(x, `${p}.mlp.up_proj`, c.mlp_bias),
        ),
        `${p}.mlp.down_proj`,
        c.mlp_bias,
      );
      h = op.add(h, mlp);
    }
    return h;
  }

  finalNorm(h: Value): Value {
    return rmsNorm(h, this.weight('model.norm.weight'), this.c.rms_norm_eps);
  }

  lmLogits(x: Value): Value {
    const table = this.c.tie_word_embeddings ? this.weight('model.embed_tokens.weight') : this.weight('lm_head.weight');
    return op.matmul(x, op.transpose(table, [1, 0]));
  }

  outputs(hFinal: Value): Record<string, Value> {
    const last = this.finalNorm(hFinal);
    return { last_hidden_state: last, logits: this.lmLogits(last) };
  }
}
