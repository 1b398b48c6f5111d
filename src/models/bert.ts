// BERT as Hugging Face transformers computes it (BertModel, BertForSequenceClassification,
// BertForMaskedLM): absolute positions, token types, post-norm layers, pooler, classifier, MLM head.
// Weight names are BertModel's (embeddings.*, encoder.layer.N.*, pooler.*) plus the heads'
// (classifier.*, cls.predictions.*); a stored 'bert.' prefix and legacy gamma/beta are accepted.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { activation, bertLayer, bertLayerShapes, bertLayerWeights, linear, paddingMaskBias } from '../nn/layers.js';
import { type Backbone, type BackboneGraph, type BindOptions, DropoutFactory, type LayerContext, type ModelInputs, positions } from './backbone.js';
import type { BertConfig } from './config.js';
import type { Ignorable, WeightSpec, Weights } from './weights.js';

export interface BertContext extends LayerContext {
  maskBias: Value; // [B, 1, 1, S]
}

export class Bert implements Backbone<BertContext> {
  readonly modelType = 'bert';

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
  static readonly ignorable: Ignorable = [/(^|\.)embeddings\.position_ids$/, /^cls\.seq_relationship\./, /^cls\.predictions\.decoder\.(weight|bias)$/];

  static weightSpecs(c: BertConfig): WeightSpec[] {
    const d = c.hidden_size;
    const specs: WeightSpec[] = [
      { name: 'embeddings.word_embeddings.weight', shape: [c.vocab_size, d] },
      { name: 'embeddings.position_embeddings.weight', shape: [c.max_position_embeddings, d] },
      { name: 'embeddings.token_type_embeddings.weight', shape: [c.type_vocab_size, d] },
      { name: 'embeddings.LayerNorm.weight', shape: [d] },
      { name: 'embeddings.LayerNorm.bias', shape: [d] },
    ];
    for (let i = 0; i < c.num_hidden_layers; i++) for (const [n, s] of bertLayerShapes(d, c.intermediate_size)) specs.push({ name: `encoder.layer.${i}.${n}`, shape: s });
    const head = (group: string, name: string, shape: number[], needs?: string[]) => specs.push({ name, shape, optional: true, group, needs });
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
}

export class BertGraph implements BackboneGraph<BertContext> {
  private readonly dropout: DropoutFactory;

  constructor(
    readonly model: Bert,
    readonly graph: Graph,
    private readonly opts: BindOptions,
  ) {
    this.dropout = new DropoutFactory(opts);
  }

  private w(name: string): Value {
    return this.model.weights.value(this.graph, name, this.opts.trainable);
  }

  private get c(): BertConfig {
    return this.model.config;
  }

  embed(inputs: ModelInputs): Value {
    return this.embedVectors(op.gather(this.w('embeddings.word_embeddings.weight'), inputs.inputIds), inputs.tokenTypeIds);
  }

  /**
   * The embedding module on given vectors [B, S, d] instead of token ids (transformers' inputs_embeds):
   * positions and token types added, LayerNorm, dropout. DataMUX and MUX-PLM feed their mixed
   * sequence back through it.
   */
  embedVectors(words: Value, tokenTypeIds?: Value): Value {
    const pos = op.gather(this.w('embeddings.position_embeddings.weight'), positions(words)); // [S, d]
    // Absent token types are all 0 (as transformers defaults): row 0 of the table, broadcast.
    const types = tokenTypeIds
      ? op.gather(this.w('embeddings.token_type_embeddings.weight'), tokenTypeIds)
      : op.slice(this.w('embeddings.token_type_embeddings.weight'), [{ axis: 0, start: 0, end: 1 }]);
    const sum = op.add(op.add(words, pos), types);
    const h = op.layerNorm(sum, this.w('embeddings.LayerNorm.weight'), this.w('embeddings.LayerNorm.bias'), { epsilon: this.c.layer_norm_eps });
    return this.dropout.apply(h, this.c.hidden_dropout_prob);
  }

  context(attentionMask: Value): BertContext {
    return { attentionMask, maskBias: paddingMaskBias(attentionMask) };
  }

  layers(h: Value, ctx: BertContext, from: number, to: number): Value {
    checkRange(from, to, this.c.num_hidden_layers);
    for (let i = from; i < to; i++) {
      const weights = bertLayerWeights((n) => this.w(`encoder.layer.${i}.${n}`));
      h = bertLayer(h, ctx.maskBias, weights, {
        heads: this.c.num_attention_heads,
        act: this.c.hidden_act,
        eps: this.c.layer_norm_eps,
        dropout: this.opts.training ? (x, kind) => this.dropout.apply(x, kind === 'hidden' ? this.c.hidden_dropout_prob : this.c.attention_probs_dropout_prob) : undefined,
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
    return op.tanh(linear(this.clsToken(h), { weight: this.w('pooler.dense.weight'), bias: this.w('pooler.dense.bias') }));
  }

  /** Sequence-classification logits [B, num_labels] from a pooled vector. */
  classify(pooled: Value): Value {
    const p = this.c.classifier_dropout ?? this.c.hidden_dropout_prob;
    return linear(this.dropout.apply(pooled, p), { weight: this.w('classifier.weight'), bias: this.w('classifier.bias') });
  }

  /** Masked-LM logits [..., V] from final states: transform, then the decoder tied to the word embeddings. */
  mlmLogits(h: Value): Value {
    const t = linear(h, { weight: this.w('cls.predictions.transform.dense.weight'), bias: this.w('cls.predictions.transform.dense.bias') });
    const n = op.layerNorm(activation(t, this.c.hidden_act), this.w('cls.predictions.transform.LayerNorm.weight'), this.w('cls.predictions.transform.LayerNorm.bias'), { epsilon: this.c.layer_norm_eps });
    return op.add(op.matmul(n, op.transpose(this.w('embeddings.word_embeddings.weight'), [1, 0])), this.w('cls.predictions.bias'));
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
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= n)) throw new RangeError(`layer range [${from}, ${to}) is not within [0, ${n}]`);
}
