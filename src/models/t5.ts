// T5 (v1.0 and v1.1) as transformers' T5ForConditionalGeneration: RMS layer norms, relative
// position buckets (bidirectional in the encoder, causal in the decoder) computed once from block
// 0's table and shared by every block (also when a layer range starts after block 0), ReLU or gated
// feed-forward, cross-attention, tied head scaled by d_model^-0.5 or an untied lm_head.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import {
  activation,
  linear,
  mergeHeads,
  paddingMaskBias,
  rmsNorm,
  scaledDotProductAttention,
  splitHeads,
} from '../nn/layers.js';
import {
  type Backbone,
  type BackboneGraph,
  type BindOptions,
  DropoutFactory,
  type LayerContext,
  type ModelInputs,
  positions,
} from './backbone.js';
import type { Example, Task } from '../data/glue.js';
import { labelWordIds } from '../data/formats.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import { type AnswerVectors, type MuxHead, labelLogits } from '../mux/heads.js';
import type { Architecture } from './architecture.js';
import { checkRange } from './bert.js';
import type { Activation } from '../nn/layers.js';
import { ACTIVATIONS, type BaseConfig, ConfigError, type ConfigReader } from './config-reader.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

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

function parseT5Config(r: ConfigReader): T5Config {
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
  if ((gated && parts.length !== 2) || (!gated && parts.length !== 1))
    throw new ConfigError(
      `config: feed_forward_proj ${JSON.stringify(c.feed_forward_proj)} must be '<act>' or 'gated-<act>'`,
    );
  let act = parts[parts.length - 1] as Activation;
  if (c.feed_forward_proj === 'gated-gelu') act = 'gelu_new'; // transformers' backwards-compatible special case
  if (!ACTIVATIONS.includes(act))
    throw new ConfigError(`config: feed_forward_proj activation '${act}' is not supported (${ACTIVATIONS.join(', ')})`);
  return { gated, act };
}

export interface T5Context extends LayerContext {
  /** Relative position bias of encoder block 0 plus the padding mask, [B, heads, S, S]. */
  positionBias: Value;
}

export class T5 implements Backbone<T5Context> {
  readonly modelType = 't5';
  readonly usesTokenTypes = false;
  readonly forwardInputs = ['decoder_input_ids'];
  readonly architectureName = 'T5ForConditionalGeneration';

  constructor(
    readonly config: T5Config,
    readonly weights: Weights,
    readonly source: string,
  ) {}

  get numLayers(): number {
    return this.config.num_layers;
  }

  get hiddenSize(): number {
    return this.config.d_model;
  }

  static canonicalName(stored: string): string {
    return stored;
  }

  /** Tied copies of `shared.weight` that some T5 checkpoints store. */
  static readonly ignorable: Ignorable = [/^(encoder|decoder)\.embed_tokens\.weight$/];

  static weightSpecs(c: T5Config): WeightSpec[] {
    const d = c.d_model;
    const inner = c.num_heads * c.d_kv;
    const { gated } = t5FeedForward(c);
    const specs: WeightSpec[] = [{ name: 'shared.weight', shape: [c.vocab_size, d] }];
    const attention = (p: string, withBias: boolean) => {
      for (const x of ['q', 'k', 'v']) specs.push({ name: `${p}.${x}.weight`, shape: [inner, d] });
      specs.push({ name: `${p}.o.weight`, shape: [d, inner] });
      if (withBias)
        specs.push({
          name: `${p}.relative_attention_bias.weight`,
          shape: [c.relative_attention_num_buckets, c.num_heads],
        });
    };
    const ff = (p: string) => {
      if (gated) {
        specs.push({ name: `${p}.DenseReluDense.wi_0.weight`, shape: [c.d_ff, d] });
        specs.push({ name: `${p}.DenseReluDense.wi_1.weight`, shape: [c.d_ff, d] });
      } else specs.push({ name: `${p}.DenseReluDense.wi.weight`, shape: [c.d_ff, d] });
      specs.push({ name: `${p}.DenseReluDense.wo.weight`, shape: [d, c.d_ff] });
      specs.push({ name: `${p}.layer_norm.weight`, shape: [d] });
    };
    for (let i = 0; i < c.num_layers; i++) {
      attention(`encoder.block.${i}.layer.0.SelfAttention`, i === 0);
      specs.push({ name: `encoder.block.${i}.layer.0.layer_norm.weight`, shape: [d] });
      ff(`encoder.block.${i}.layer.1`);
    }
    specs.push({ name: 'encoder.final_layer_norm.weight', shape: [d] });
    for (let i = 0; i < c.num_decoder_layers; i++) {
      attention(`decoder.block.${i}.layer.0.SelfAttention`, i === 0);
      specs.push({ name: `decoder.block.${i}.layer.0.layer_norm.weight`, shape: [d] });
      attention(`decoder.block.${i}.layer.1.EncDecAttention`, false);
      specs.push({ name: `decoder.block.${i}.layer.1.layer_norm.weight`, shape: [d] });
      ff(`decoder.block.${i}.layer.2`);
    }
    specs.push({ name: 'decoder.final_layer_norm.weight', shape: [d] });
    specs.push({ name: 'lm_head.weight', shape: [c.vocab_size, d], optional: c.tie_word_embeddings });
    return specs;
  }

  bind(g: Graph, opts: BindOptions = {}): T5Graph {
    return new T5Graph(this, g, opts);
  }

  storedName(name: string): string {
    return name;
  }

  /**
   * "text: {a}" or "text: {a} ? <extra_id_0> {b}" (spec §2.2 without the 50 soft-prompt filler
   * tokens, which only exist to carry a learned prompt); the answer is read at decoder step 1.
   */
  formatExample(_task: Task, e: Example): Example {
    return {
      label: e.label,
      textA: e.textB === undefined ? `text: ${e.textA}` : `text: ${e.textA} ? <extra_id_0> ${e.textB}`,
    };
  }

  labelTokenIds(tok: TextTokenizer, task: Task): [number, number] {
    return labelWordIds(tok, task, { leadingSpace: false });
  }

  /**
   * Decoder inputs "<pad> <extra_id_0> <extra_id_0>" (the mask or unknown token where the vocabulary
   * has no sentinel). Without a tokenizer (random models in speed benchmarks): start, 1, 1.
   */
  decoderIds(tok?: TextTokenizer): number[] {
    const start = this.config.decoder_start_token_id;
    if (!tok) return [start, 1, 1];
    const sentinel = tok.tokenToId('<extra_id_0>') ?? tok.tokenToId('[MASK]') ?? tok.tokenToId('<unk>') ?? 2;
    return [start, sentinel, sentinel];
  }

  taskHead(o: { labelIds: [number, number] | null; tokenizer?: TextTokenizer }): MuxHead {
    if (!o.labelIds) throw new Error(`${this.source}: T5 answers with label words: their token ids are needed`);
    return new T5DecoderHead(
      this.config.tie_word_embeddings ? 'shared.weight' : 'lm_head.weight',
      o.labelIds,
      this.decoderIds(o.tokenizer),
    );
  }

  /** The label words are answered through the LM head the checkpoint already has. */
  prepareForFinetuning(): void {}

  finetunes(): boolean {
    return true;
  }
}

/**
 * Encoder [l, L) + final norm, the whole decoder on decoder_input_ids, decoder step 1 (head-scaled);
 * logits = the two label-word rows of the LM head. The decoder runs once per multiplexed row.
 */
class T5DecoderHead implements MuxHead {
  readonly perInstance = false;
  constructor(
    private readonly table: string,
    private readonly labelIds: [number, number],
    private readonly decoderIds: number[],
    private readonly answerStep = 1,
  ) {}
  answerInputs(mask: Value): Record<string, Value> {
    // the same decoder prompt for every row: [rows, T]
    const ids = op.unsqueeze(mask.graph.int64s(this.decoderIds), [0]);
    return { decoder_input_ids: op.expand(ids, [mask.shape[0], this.decoderIds.length], [mask]) };
  }
  private answerVector(b: T5Graph, hL: Value, mask: Value, dec: Value): Value {
    const out = b.decode(dec, b.encoderFinal(hL), mask);
    return b.headInput(op.squeeze(op.slice(out, [{ axis: 1, start: this.answerStep, end: this.answerStep + 1 }]), [1]));
  }
  mixed(
    bg: BackboneGraph<LayerContext>,
    h: Value,
    mask: Value,
    l: number,
    extra: Record<string, Value>,
  ): AnswerVectors {
    const b = bg as T5Graph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    return { answer: this.answerVector(b, hL, mask, extra.decoder_input_ids), nce: null };
  }
  logits(bg: BackboneGraph<LayerContext>, y: Value): Value {
    return labelLogits(bg, this.table, this.labelIds, y);
  }
  siso(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>) {
    const b = bg as T5Graph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    const t = this.answerVector(b, hL, mask, extra.decoder_input_ids);
    return { logits: this.logits(b, t), teacher: t };
  }
}

/** T5's scheme (T5PreTrainedModel._init_weights), with initializer_factor. */
function t5InitStd(c: T5Config, name: string): number {
  const f = c.initializer_factor;
  if (/\.(q)\.weight$/.test(name)) return f * (c.d_model * c.d_kv) ** -0.5;
  if (/\.(k|v)\.weight$/.test(name)) return f * c.d_model ** -0.5;
  if (/\.o\.weight$/.test(name)) return f * (c.num_heads * c.d_kv) ** -0.5;
  if (/wi(_\d)?\.weight$/.test(name)) return f * c.d_model ** -0.5;
  if (/wo\.weight$/.test(name)) return f * c.d_ff ** -0.5;
  if (/relative_attention_bias/.test(name)) return f * c.d_model ** -0.5;
  return f * 1.0; // shared embeddings, lm_head
}

/** T5's entry in the registry. */
export const T5_FAMILY: Architecture<T5Config> = {
  parseConfig: parseT5Config,
  dims: (c) => ({
    layers: c.num_layers,
    hidden: c.d_model,
    heads: c.num_heads,
    vocab: c.vocab_size,
    maxPositions: Infinity,
    padId: c.pad_token_id,
  }),
  weightSpecs: (c) => T5.weightSpecs(c),
  canonicalName: (s) => T5.canonicalName(s),
  ignorable: T5.ignorable,
  configJson: (c) => ({ ...c }),
  initStd: t5InitStd,
  build: (c, w, source) => new T5(c, w, source),
  layerFlops: (c, S) => {
    const inner = c.num_heads * c.d_kv;
    const ffMats = t5FeedForward(c).gated ? 3 : 2;
    return 8 * S * c.d_model * inner + 4 * S * S * inner + 2 * ffMats * S * c.d_model * c.d_ff;
  },
  // the whole decoder over T steps, cross-attending S encoder states
  sharedTailFlops: (c, S, T) => {
    const inner = c.num_heads * c.d_kv;
    const d = c.d_model;
    const ffMats = t5FeedForward(c).gated ? 3 : 2;
    const self = 8 * T * d * inner + 4 * T * T * inner;
    const cross = 4 * T * d * inner + 4 * S * d * inner + 4 * T * S * inner;
    return c.num_decoder_layers * (self + cross + 2 * ffMats * T * d * c.d_ff);
  },
  fresh: {
    // T5 v1.0 (ReLU feed-forward, tied head) with as many decoder blocks as encoder blocks
    configFields: (s) => ({
      vocab_size: 30522,
      d_model: s.hidden,
      d_kv: s.hidden / s.heads,
      d_ff: s.ffn,
      num_layers: s.layers,
      num_decoder_layers: s.layers,
      num_heads: s.heads,
      feed_forward_proj: 'relu',
      tie_word_embeddings: true,
    }),
    classifierHeads: () => false, // label words through the tied LM head
  },
  pretraining: {
    objective: 'span-corruption',
    heads: () => false, // the tied LM head
    dropoutFields: (p) => ({ dropout_rate: p }),
    // plain AdamW left span corruption on the unigram plateau; nanoT5 (Nawrot 2023) trains T5 with these steps
    scaledSteps: true,
    // a BERT-style vocabulary has no </s>: its [SEP] ends sequences instead
    tokenFields(tok) {
      const eos = tok.tokenToId('</s>') ?? tok.tokenToId('[SEP]');
      if (eos === undefined) throw new Error(`${tok.source}: T5 needs an end-of-sequence token (</s> or [SEP])`);
      return { pad_token_id: tok.padId, decoder_start_token_id: tok.padId, eos_token_id: eos };
    },
  },
};

export class T5Graph implements BackboneGraph<T5Context> {
  private readonly dropout: DropoutFactory;

  constructor(
    readonly model: T5,
    readonly graph: Graph,
    private readonly opts: BindOptions,
  ) {
    this.dropout = new DropoutFactory(opts);
  }

  weight(name: string): Value {
    return this.model.weights.value(this.graph, name, this.opts.trainable);
  }

  private get c(): T5Config {
    return this.model.config;
  }

  private drop(x: Value): Value {
    return this.dropout.apply(x, this.c.dropout_rate);
  }

  embed(inputs: ModelInputs): Value {
    return this.drop(op.gather(this.weight('shared.weight'), inputs.inputIds));
  }

  context(attentionMask: Value): T5Context {
    const pos = positions(attentionMask);
    const bias = this.relativeBias('encoder', pos, pos, true);
    return { attentionMask, positionBias: op.add(bias, paddingMaskBias(attentionMask)) };
  }

  /** [1, heads, Q, K] bias from block 0's bucket table of the encoder or decoder. */
  relativeBias(stack: 'encoder' | 'decoder', qPos: Value, kPos: Value, bidirectional: boolean): Value {
    const rel = op.sub(op.unsqueeze(kPos, [0]), op.unsqueeze(qPos, [1])); // key - query, [Q, K]
    const bucket = relativePositionBucket(
      rel,
      bidirectional,
      this.c.relative_attention_num_buckets,
      this.c.relative_attention_max_distance,
    );
    const table = this.weight(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    return op.unsqueeze(op.transpose(op.gather(table, bucket), [2, 0, 1]), [0]);
  }

  private attention(prefix: string, x: Value, kv: Value, bias: Value): Value {
    const H = this.c.num_heads;
    const q = splitHeads(linear(x, { weight: this.weight(`${prefix}.q.weight`) }), H);
    const k = splitHeads(linear(kv, { weight: this.weight(`${prefix}.k.weight`) }), H);
    const v = splitHeads(linear(kv, { weight: this.weight(`${prefix}.v.weight`) }), H);
    // T5 does not scale the scores by 1/sqrt(d_kv): that factor is folded into its initialisation.
    const ctx = mergeHeads(scaledDotProductAttention(q, k, v, bias, 1, (p) => this.drop(p)));
    return linear(ctx, { weight: this.weight(`${prefix}.o.weight`) });
  }

  private feedForward(prefix: string, h: Value): Value {
    const { gated, act } = t5FeedForward(this.c);
    const x = rmsNorm(h, this.weight(`${prefix}.layer_norm.weight`), this.c.layer_norm_epsilon);
    const inner = gated
      ? op.mul(
          activation(linear(x, { weight: this.weight(`${prefix}.DenseReluDense.wi_0.weight`) }), act),
          linear(x, { weight: this.weight(`${prefix}.DenseReluDense.wi_1.weight`) }),
        )
      : activation(linear(x, { weight: this.weight(`${prefix}.DenseReluDense.wi.weight`) }), act);
    return op.add(
      h,
      this.drop(linear(this.drop(inner), { weight: this.weight(`${prefix}.DenseReluDense.wo.weight`) })),
    );
  }

  private selfAttentionBlock(prefix: string, h: Value, bias: Value): Value {
    const x = rmsNorm(h, this.weight(`${prefix}.layer_norm.weight`), this.c.layer_norm_epsilon);
    return op.add(h, this.drop(this.attention(`${prefix}.SelfAttention`, x, x, bias)));
  }

  layers(h: Value, ctx: T5Context, from: number, to: number): Value {
    checkRange(from, to, this.c.num_layers);
    for (let i = from; i < to; i++) {
      h = this.selfAttentionBlock(`encoder.block.${i}.layer.0`, h, ctx.positionBias);
      h = this.feedForward(`encoder.block.${i}.layer.1`, h);
    }
    return h;
  }

  /** encoder_last_hidden_state: final RMS norm (+ dropout) of the encoder stream. */
  encoderFinal(h: Value): Value {
    return this.drop(rmsNorm(h, this.weight('encoder.final_layer_norm.weight'), this.c.layer_norm_epsilon));
  }

  /** The decoder over `decoderInputIds`, cross-attending `encoderOut` under `encoderMask`; after its final norm. */
  decode(decoderInputIds: Value, encoderOut: Value, encoderMask: Value): Value {
    const pos = positions(decoderInputIds);
    const rel = op.sub(op.unsqueeze(pos, [0]), op.unsqueeze(pos, [1]));
    const causal = op.unsqueeze(op.where(op.greater(rel, 0), -1e9, this.graph.scalar(0, 'float32')), [0, 1]);
    const selfBias = op.add(this.relativeBias('decoder', pos, pos, false), causal);
    const crossBias = paddingMaskBias(encoderMask);
    let h = this.drop(op.gather(this.weight('shared.weight'), decoderInputIds));
    for (let i = 0; i < this.c.num_decoder_layers; i++) {
      const p = `decoder.block.${i}.layer`;
      h = this.selfAttentionBlock(`${p}.0`, h, selfBias);
      const x = rmsNorm(h, this.weight(`${p}.1.layer_norm.weight`), this.c.layer_norm_epsilon);
      h = op.add(h, this.drop(this.attention(`${p}.1.EncDecAttention`, x, encoderOut, crossBias)));
      h = this.feedForward(`${p}.2`, h);
    }
    return this.drop(rmsNorm(h, this.weight('decoder.final_layer_norm.weight'), this.c.layer_norm_epsilon));
  }

  /** What the LM head sees: with tied embeddings the decoder output is scaled by d_model^-0.5. */
  headInput(decoderOut: Value): Value {
    return this.c.tie_word_embeddings ? op.mul(decoderOut, this.c.d_model ** -0.5) : decoderOut;
  }

  /** Vocabulary logits of (already head-scaled) vectors. */
  lmLogits(x: Value): Value {
    const table = this.c.tie_word_embeddings ? this.weight('shared.weight') : this.weight('lm_head.weight');
    return op.matmul(x, op.transpose(table, [1, 0]));
  }

  outputs(hFinal: Value, ctx: T5Context, inputs: ModelInputs): Record<string, Value> {
    const enc = this.encoderFinal(hFinal);
    const out: Record<string, Value> = { encoder_last_hidden_state: enc };
    if (inputs.decoderInputIds) {
      const dec = this.decode(inputs.decoderInputIds, enc, ctx.attentionMask);
      out.last_hidden_state = dec;
      out.logits = this.lmLogits(this.headInput(dec));
    }
    return out;
  }
}

/**
 * transformers' T5Attention._relative_position_bucket, in graph ops on int64 relative positions
 * (key - query): exact buckets for small distances, logarithmic ones up to max_distance.
 */
export function relativePositionBucket(
  rel: Value,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Value {
  let nb = numBuckets;
  let offset: Value | null = null;
  let n: Value;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    offset = op.mul(op.cast(op.greater(rel, 0), 'int64'), nb);
    n = op.abs(rel);
  } else {
    n = op.neg(op.min(rel, 0));
  }
  const maxExact = Math.floor(nb / 2);
  const isSmall = op.less(n, maxExact);
  // log(0) never matters (0 is always "small"); clamp so the unused branch stays finite.
  const nf = op.cast(op.max(n, 1), 'float32');
  const scaled = op.mul(op.div(op.log(op.div(nf, maxExact)), Math.log(maxDistance / maxExact)), nb - maxExact);
  const large = op.min(op.add(op.cast(scaled, 'int64'), maxExact), nb - 1);
  const bucket = op.where(isSmall, n, large);
  return offset ? op.add(offset, bucket) : bucket;
}
