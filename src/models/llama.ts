// LLaMA as transformers' LlamaForCausalLM: pre-norm RMSNorm layers, rotate-half rotary embeddings
// (rope_theta, optional linear / llama3 scaling), grouped-query attention, SwiGLU MLP, final norm,
// tied or untied LM head. Positions are 0..S-1 (right padding).
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { activation, linear, paddingMaskBias, rmsNorm } from '../nn/layers.js';
import { type Backbone, type BackboneGraph, type BindOptions, type LayerContext, type ModelInputs, positions } from './backbone.js';
import { checkRange } from './bert.js';
import type { LlamaConfig } from './config.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

export interface LlamaContext extends LayerContext {
  /** Causal + padding bias, [B, 1, 1, S, S] (the extra axis is the query group of GQA). */
  bias: Value;
  /** Rotary tables [S, head_dim]. */
  cos: Value;
  sin: Value;
}

export class Llama implements Backbone<LlamaContext> {
  readonly modelType = 'llama';

  constructor(
    readonly config: LlamaConfig,
    readonly weights: Weights,
    readonly source: string,
  ) {}

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
      lin(`${p}.self_attn.q_proj`, q, d, c.attention_bias);
      lin(`${p}.self_attn.k_proj`, kv, d, c.attention_bias);
      lin(`${p}.self_attn.v_proj`, kv, d, c.attention_bias);
      lin(`${p}.self_attn.o_proj`, d, q, c.attention_bias);
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
}

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

  private w(name: string): Value {
    return this.model.weights.value(this.graph, name, this.opts.trainable);
  }

  private get c(): LlamaConfig {
    return this.model.config;
  }

  private lin(x: Value, name: string, bias: boolean): Value {
    return linear(x, { weight: this.w(`${name}.weight`), bias: bias ? this.w(`${name}.bias`) : null });
  }

  embed(inputs: ModelInputs): Value {
    return op.gather(this.w('model.embed_tokens.weight'), inputs.inputIds);
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
    const q = this.rotate(heads(this.lin(x, `${p}.q_proj`, c.attention_bias), c.num_attention_heads), ctx);
    const k = this.rotate(heads(this.lin(x, `${p}.k_proj`, c.attention_bias), kvh), ctx);
    const v = heads(this.lin(x, `${p}.v_proj`, c.attention_bias), kvh);
    // Grouped-query attention by broadcasting: query head h = kv * group + r uses key/value head kv.
    const qg = op.reshape(q, [B, kvh, group, S, hd]);
    const scores = op.add(op.mul(op.matmul(qg, op.transposeLast2(op.unsqueeze(k, [2]))), 1 / Math.sqrt(hd)), ctx.bias);
    const out = op.matmul(op.softmax(scores, -1), op.unsqueeze(v, [2])); // [B, kvh, group, S, hd]
    const merged = op.reshape(op.transpose(op.reshape(out, [B, c.num_attention_heads, S, hd]), [0, 2, 1, 3]), [B, S, c.num_attention_heads * hd]);
    return this.lin(merged, `${p}.o_proj`, c.attention_bias);
  }

  layers(h: Value, ctx: LlamaContext, from: number, to: number): Value {
    const c = this.c;
    checkRange(from, to, c.num_hidden_layers);
    for (let i = from; i < to; i++) {
      const p = `model.layers.${i}`;
      h = op.add(h, this.attention(`${p}.self_attn`, rmsNorm(h, this.w(`${p}.input_layernorm.weight`), c.rms_norm_eps), ctx));
      const x = rmsNorm(h, this.w(`${p}.post_attention_layernorm.weight`), c.rms_norm_eps);
      const mlp = this.lin(op.mul(activation(this.lin(x, `${p}.mlp.gate_proj`, c.mlp_bias), c.hidden_act), this.lin(x, `${p}.mlp.up_proj`, c.mlp_bias)), `${p}.mlp.down_proj`, c.mlp_bias);
      h = op.add(h, mlp);
    }
    return h;
  }

  finalNorm(h: Value): Value {
    return rmsNorm(h, this.w('model.norm.weight'), this.c.rms_norm_eps);
  }

  lmLogits(x: Value): Value {
    const table = this.c.tie_word_embeddings ? this.w('model.embed_tokens.weight') : this.w('lm_head.weight');
    return op.matmul(x, op.transpose(table, [1, 0]));
  }

  outputs(hFinal: Value): Record<string, Value> {
    const last = this.finalNorm(hFinal);
    return { last_hidden_state: last, logits: this.lmLogits(last) };
  }
}
