// BERT as Hugging Face transformers computes it (BertModel, BertForSequenceClassification,
// BertForMaskedLM): absolute positions, token types, post-norm layers, pooler, classifier, MLM head.
// Weight names are BertModel's (embeddings.*, encoder.layer.N.*, pooler.*) plus the heads'
// (classifier.*, cls.predictions.*); a stored 'bert.' prefix and legacy gamma/beta are accepted.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { activation, bertLayer, bertLayerShapes, bertLayerWeights, linear, paddingMaskBias } from '../nn/layers.js';
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
import { Rng } from '../engine/random.js';
import type { AnswerVectors, MuxHead } from '../mux/heads.js';
import type { Architecture } from './architecture.js';
import type { Activation } from '../nn/layers.js';
import { ACTIVATIONS, type BaseConfig, ConfigError, type ConfigReader } from './config-reader.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

/** BERT and the encoders that share its layout (RoBERTa, XLM-RoBERTa, DistilBERT: roberta.ts, distilbert.ts). */
export interface BertConfig extends BaseConfig {
  model_type: 'bert' | 'roberta' | 'xlm-roberta' | 'distilbert';
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

/** A BERT-layout config.json; RoBERTa-style families pass their model_type and defaults. */
export function parseBertConfig(
  r: ConfigReader,
  model_type: BertConfig['model_type'] = 'bert',
  dflt = { vocab_size: 30522, pad_token_id: 0 },
): BertConfig {
  const c: BertConfig = {
    ...r.base(),
    model_type,
    vocab_size: r.int('vocab_size', dflt.vocab_size),
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
    pad_token_id: r.int('pad_token_id', dflt.pad_token_id, 0),
    position_embedding_type: r.str('position_embedding_type', 'absolute', ['absolute'] as const),
    classifier_dropout: r.optNum('classifier_dropout', 0, 0.99),
    num_labels: r.numLabels(),
    initializer_range: r.num('initializer_range', 0.02),
  };
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new ConfigError(
      `config: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`,
    );
  return c;
}

export interface BertContext extends LayerContext {
  maskBias: Value; // [B, 1, 1, S]
}

export class Bert implements Backbone<BertContext> {
  readonly modelType: string = 'bert';
  readonly usesTokenTypes: boolean = true;
  readonly forwardInputs: readonly string[] = ['token_type_ids'];

  constructor(
    readonly config: BertConfig,
    readonly weights: Weights,
    readonly source: string,
  ) {}

  get numLayers(): number {
    return this.config.num_hidden_layers;
  }

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  get hasClassifier(): boolean {
    return this.weights.has('classifier.weight') && this.weights.has('pooler.dense.weight');
  }

  get hasMlmHead(): boolean {
    return this.weights.has('cls.predictions.transform.dense.weight');
  }

  /** Stored name -> our name: drop the task model's 'bert.' prefix, rename legacy LayerNorm gamma/beta. */
  static canonicalName(stored: string): string {
    return stored
      .replace(/^bert\./, '')
      .replace(/LayerNorm\.gamma$/, 'LayerNorm.weight')
      .replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  }

  /** Buffers and heads of other BERT task models that transformers also skips when loading. */
  static readonly ignorable: Ignorable = [
    /(^|\.)embeddings\.position_ids$/,
    /^cls\.seq_relationship\./,
    /^cls\.predictions\.decoder\.(weight|bias)$/,
  ];

  static weightSpecs(c: BertConfig): WeightSpec[] {
    const d = c.hidden_size;
    const specs: WeightSpec[] = [
      { name: 'embeddings.word_embeddings.weight', shape: [c.vocab_size, d] },
      { name: 'embeddings.position_embeddings.weight', shape: [c.max_position_embeddings, d] },
      { name: 'embeddings.token_type_embeddings.weight', shape: [c.type_vocab_size, d] },
      { name: 'embeddings.LayerNorm.weight', shape: [d] },
      { name: 'embeddings.LayerNorm.bias', shape: [d] },
    ];
    for (let i = 0; i < c.num_hidden_layers; i++)
      for (const [n, s] of bertLayerShapes(d, c.intermediate_size))
        specs.push({ name: `encoder.layer.${i}.${n}`, shape: s });
    const head = (group: string, name: string, shape: number[], needs?: string[]) =>
      specs.push({ name, shape, optional: true, group, needs });
    head('pooler', 'pooler.dense.weight', [d, d]);
    head('pooler', 'pooler.dense.bias', [d]);
    head('classifier', 'classifier.weight', [c.num_labels, d], ['pooler']);
    head('classifier', 'classifier.bias', [c.num_labels], ['pooler']);
    head('MLM', 'cls.predictions.transform.dense.weight', [d, d]);
    head('MLM', 'cls.predictions.transform.dense.bias', [d]);
    head('MLM', 'cls.predictions.transform.LayerNorm.weight', [d]);
    head('MLM', 'cls.predictions.transform.LayerNorm.bias', [d]);
    head('MLM', 'cls.predictions.bias', [c.vocab_size]);
    return specs;
  }

  bind(g: Graph, opts: BindOptions = {}): BertGraph {
    return new BertGraph(this, g, opts);
  }

  get architectureName(): string {
    return this.hasClassifier ? 'BertForSequenceClassification' : this.hasMlmHead ? 'BertForMaskedLM' : 'BertModel';
  }

  /** Task models store the encoder under 'bert.' next to their heads, as transformers does. */
  storedName(name: string): string {
    const taskModel = this.hasClassifier || this.hasMlmHead;
    return taskModel && !name.startsWith('classifier.') && !name.startsWith('cls.') ? `bert.${name}` : name;
  }

  /** The sentence (pair) as-is: the fine-tuned classifier answers, no prompt, no label words. */
  formatExample(_task: Task, e: Example): Example {
    return e;
  }

  labelTokenIds(): null {
    return null;
  }

  taskHead(_o?: { labelIds: [number, number] | null }): MuxHead {
    if (!this.hasClassifier)
      throw new Error(
        `${this.source}: this BERT has no pooler + classifier; RevMUX needs a task classifier (make one with revmux ` +
          `finetune)`,
      );
    if (this.config.num_labels !== 2)
      throw new Error(
        `${this.source}: the classifier has ${this.config.num_labels} labels; the GLUE tasks here have 2`,
      );
    return new BertClassifierHead();
  }

  /** The weights of its two-label classification head, in the order they are initialised. */
  protected classifierHeadShapes(): [string, number[]][] {
    const d = this.config.hidden_size;
    return [
      ['pooler.dense.weight', [d, d]],
      ['pooler.dense.bias', [d]],
      ['classifier.weight', [2, d]],
      ['classifier.bias', [2]],
    ];
  }

  /**
   * A pretrained encoder without heads gets a fresh classification head (as transformers does): normal weights, zero
   * biases.
   */
  prepareForFinetuning(seed: number): void {
    if (this.config.num_labels !== 2)
      throw new Error(`finetune: ${this.source} has ${this.config.num_labels} labels; the GLUE tasks need 2`);
    const rng = new Rng(seed);
    for (const [name, shape] of this.classifierHeadShapes()) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (!this.weights.has(name))
        this.weights.set(name, {
          shape,
          data: name.endsWith('.bias') ? new Float32Array(n) : rng.normalArray(n, this.config.initializer_range),
        });
    }
  }

  finetunes(name: string): boolean {
    return !name.startsWith('cls.');
  }
}

/**
 * The frozen pooler on the (mixed) [CLS] state, then the frozen classifier; InfoNCE uses the [CLS]
 * final state itself (spec A15). Every instance answers at position 0, so no extra inputs.
 */
class BertClassifierHead implements MuxHead {
  readonly perInstance = false;
  answerInputs(): Record<string, Value> {
    return {};
  }
  mixed(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number): AnswerVectors {
    const b = bg as BertGraph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    return { answer: b.pool(hL), nce: b.clsToken(hL) };
  }
  logits(bg: BackboneGraph<LayerContext>, y: Value): Value {
    return (bg as BertGraph).classify(y);
  }
  siso(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number) {
    const b = bg as BertGraph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    return { logits: b.classify(b.pool(hL)), teacher: b.clsToken(hL) };
  }
}

/** BERT's entry in the registry. */
export const BERT: Architecture<BertConfig> = {
  parseConfig: (r) => parseBertConfig(r),
  dims: (c) => ({
    layers: c.num_hidden_layers,
    hidden: c.hidden_size,
    heads: c.num_attention_heads,
    vocab: c.vocab_size,
    maxPositions: c.max_position_embeddings,
    padId: c.pad_token_id,
  }),
  weightSpecs: (c) => Bert.weightSpecs(c),
  canonicalName: (s) => Bert.canonicalName(s),
  ignorable: Bert.ignorable,
  configJson: (c) => ({ ...c }),
  initStd: (c) => c.initializer_range,
  build: (c, w, source) => new Bert(c, w, source),
  layerFlops: (c, S) =>
    8 * S * c.hidden_size ** 2 + 4 * S * S * c.hidden_size + 4 * S * c.hidden_size * c.intermediate_size,
  sharedTailFlops: (c) => 2 * c.hidden_size * c.hidden_size, // the pooler
  fresh: {
    configFields: (s) => ({
      vocab_size: 30522,
      max_position_embeddings: 512,
      num_hidden_layers: s.layers,
      hidden_size: s.hidden,
      num_attention_heads: s.heads,
      intermediate_size: s.ffn,
    }),
    classifierHeads: (name) => !name.startsWith('cls.'), // the MLM head is pretraining's
  },
  pretraining: {
    objective: 'masked-lm',
    heads: (name) => name.startsWith('cls.'),
    dropoutFields: (p) => ({ hidden_dropout_prob: p, attention_probs_dropout_prob: p }),
  },
};

export class BertGraph implements BackboneGraph<BertContext> {
  protected readonly dropout: DropoutFactory;

  constructor(
    readonly model: Bert,
    readonly graph: Graph,
    protected readonly opts: BindOptions,
  ) {
    this.dropout = new DropoutFactory(opts);
  }

  weight(name: string): Value {
    return this.model.weights.value(this.graph, name, this.opts.trainable);
  }

  protected get c(): BertConfig {
    return this.model.config;
  }

  embed(inputs: ModelInputs): Value {
    return this.embedVectors(
      op.gather(this.weight('embeddings.word_embeddings.weight'), inputs.inputIds),
      inputs.tokenTypeIds,
    );
  }

  /**
   * The embedding module on given vectors [B, S, d] instead of token ids (transformers' inputs_embeds):
   * positions and token types added, LayerNorm, dropout. DataMUX and MUX-PLM feed their mixed
   * sequence back through it.
   */
  embedVectors(words: Value, tokenTypeIds?: Value, positionIds?: Value): Value {
    // [S, d] or [B, S, d]
    const pos = op.gather(this.weight('embeddings.position_embeddings.weight'), positionIds ?? positions(words));
    // Absent token types are all 0 (as transformers defaults): row 0 of the table, broadcast.
    const types = tokenTypeIds
      ? op.gather(this.weight('embeddings.token_type_embeddings.weight'), tokenTypeIds)
      : op.slice(this.weight('embeddings.token_type_embeddings.weight'), [{ axis: 0, start: 0, end: 1 }]);
    const sum = op.add(op.add(words, pos), types);
    const h = op.layerNorm(sum, this.weight('embeddings.LayerNorm.weight'), this.weight('embeddings.LayerNorm.bias'), {
      epsilon: this.c.layer_norm_eps,
    });
    return this.dropout.apply(h, this.c.hidden_dropout_prob);
  }

  context(attentionMask: Value): BertContext {
    return { attentionMask, maskBias: paddingMaskBias(attentionMask) };
  }

  layers(h: Value, ctx: BertContext, from: number, to: number): Value {
    checkRange(from, to, this.c.num_hidden_layers);
    for (let i = from; i < to; i++) {
      const weights = bertLayerWeights((n) => this.weight(`encoder.layer.${i}.${n}`));
      h = bertLayer(h, ctx.maskBias, weights, {
        heads: this.c.num_attention_heads,
        act: this.c.hidden_act,
        eps: this.c.layer_norm_eps,
        dropout: this.opts.training
          ? (x, kind) =>
              this.dropout.apply(
                x,
                kind === 'hidden' ? this.c.hidden_dropout_prob : this.c.attention_probs_dropout_prob,
              )
          : undefined,
      });
    }
    return h;
  }

  /** First-token ([CLS]) state [B, d] of a [B, S, d] stream. */
  clsToken(h: Value): Value {
    return op.squeeze(op.slice(h, [{ axis: 1, start: 0, end: 1 }]), [1]);
  }

  /** pooler_output = tanh(dense(h[:, 0])), [B, d]. */
  pool(h: Value): Value {
    return op.tanh(
      linear(this.clsToken(h), { weight: this.weight('pooler.dense.weight'), bias: this.weight('pooler.dense.bias') }),
    );
  }

  /** Sequence-classification logits [B, num_labels] from a pooled vector. */
  classify(pooled: Value): Value {
    const p = this.c.classifier_dropout ?? this.c.hidden_dropout_prob;
    return linear(this.dropout.apply(pooled, p), {
      weight: this.weight('classifier.weight'),
      bias: this.weight('classifier.bias'),
    });
  }

  /** Masked-LM logits [..., V] from final states: transform, then the decoder tied to the word embeddings. */
  mlmLogits(h: Value): Value {
    const t = linear(h, {
      weight: this.weight('cls.predictions.transform.dense.weight'),
      bias: this.weight('cls.predictions.transform.dense.bias'),
    });
    const n = op.layerNorm(
      activation(t, this.c.hidden_act),
      this.weight('cls.predictions.transform.LayerNorm.weight'),
      this.weight('cls.predictions.transform.LayerNorm.bias'),
      { epsilon: this.c.layer_norm_eps },
    );
    return op.add(
      op.matmul(n, op.transpose(this.weight('embeddings.word_embeddings.weight'), [1, 0])),
      this.weight('cls.predictions.bias'),
    );
  }

  outputs(hFinal: Value, _ctx: BertContext, _inputs: ModelInputs): Record<string, Value> {
    const out: Record<string, Value> = { last_hidden_state: hFinal };
    if (this.model.weights.has('pooler.dense.weight')) out.pooler_output = this.pool(hFinal);
    if (this.model.hasClassifier) out.logits = this.classify(out.pooler_output);
    else if (this.model.hasMlmHead) out.logits = this.mlmLogits(hFinal);
    return out;
  }
}

export function checkRange(from: number, to: number, n: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= n))
    throw new RangeError(`layer range [${from}, ${to}) is not within [0, ${n}]`);
}
