// DistilBERT as transformers computes it (DistilBertModel, DistilBertForSequenceClassification):
// BERT's post-norm layers (src/models/bert.ts) under other names, without token types, and the head
// classifier(ReLU(pre_classifier(h[:, 0]))). Its config.json names the sizes differently (dim,
// n_layers, hidden_dim...): parsed into the BERT-layout config the graph uses, written back in
// DistilBERT's names on save. The MLM head of DistilBertForMaskedLM (vocab_*) is skipped on load.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { linear } from '../nn/layers.js';
import type { Architecture } from './architecture.js';
import { type BindOptions, type ModelInputs, positions } from './backbone.js';
import { BERT, Bert, type BertConfig, type BertContext, BertGraph } from './bert.js';
import { ACTIVATIONS, type ConfigReader } from './config-reader.js';
import type { Ignorable, WeightSpec } from './weights.js';

/** DistilBERT stored name fragment -> BERT name fragment (within one layer or the embeddings). */
const RENAMES: [string, string][] = [
  ['attention.q_lin.', 'attention.self.query.'],
  ['attention.k_lin.', 'attention.self.key.'],
  ['attention.v_lin.', 'attention.self.value.'],
  ['attention.out_lin.', 'attention.output.dense.'],
  ['sa_layer_norm.', 'attention.output.LayerNorm.'],
  ['ffn.lin1.', 'intermediate.dense.'],
  ['ffn.lin2.', 'output.dense.'],
  ['output_layer_norm.', 'output.LayerNorm.'],
];

function parseDistilBertConfig(r: ConfigReader): BertConfig {
  const dim = r.int('dim', 768);
  const heads = r.int('n_heads', 12);
  if (dim % heads !== 0) throw new Error(`${r.where}: dim ${dim} is not divisible by n_heads ${heads}`);
  return {
    ...r.base(),
    model_type: 'distilbert',
    vocab_size: r.int('vocab_size', 30522),
    hidden_size: dim,
    num_hidden_layers: r.int('n_layers', 6),
    num_attention_heads: heads,
    intermediate_size: r.int('hidden_dim', 3072),
    hidden_act: r.str('activation', 'gelu', ACTIVATIONS),
    hidden_dropout_prob: r.num('dropout', 0.1, 0, 0.99),
    attention_probs_dropout_prob: r.num('attention_dropout', 0.1, 0, 0.99),
    max_position_embeddings: r.int('max_position_embeddings', 512),
    type_vocab_size: 1, // none; kept so the BERT-layout config stays complete
    layer_norm_eps: 1e-12, // fixed in DistilBERT
    pad_token_id: r.int('pad_token_id', 0, 0),
    position_embedding_type: 'absolute',
    classifier_dropout: r.num('seq_classif_dropout', 0.2, 0, 0.99),
    num_labels: r.numLabels(),
    initializer_range: r.num('initializer_range', 0.02),
  };
}

function distilBertConfigJson(c: BertConfig): Record<string, unknown> {
  const { architectures, id2label, label2id, _name_or_path } = c;
  return {
    ...(architectures ? { architectures } : {}),
    ...(id2label ? { id2label, label2id } : {}),
    ...(_name_or_path ? { _name_or_path } : {}),
    model_type: 'distilbert',
    vocab_size: c.vocab_size,
    dim: c.hidden_size,
    n_layers: c.num_hidden_layers,
    n_heads: c.num_attention_heads,
    hidden_dim: c.intermediate_size,
    activation: c.hidden_act,
    dropout: c.hidden_dropout_prob,
    attention_dropout: c.attention_probs_dropout_prob,
    max_position_embeddings: c.max_position_embeddings,
    sinusoidal_pos_embds: false,
    seq_classif_dropout: c.classifier_dropout,
    pad_token_id: c.pad_token_id,
    initializer_range: c.initializer_range,
    num_labels: c.num_labels,
  };
}

export class DistilBert extends Bert {
  override readonly modelType: string = 'distilbert';
  override readonly usesTokenTypes: boolean = false;
  override readonly forwardInputs: readonly string[] = [];

  override get hasMlmHead(): boolean {
    return false;
  }

  /** Stored DistilBERT name -> the BERT name the graph uses; pre_classifier plays the pooler's part. */
  static override canonicalName(stored: string): string {
    let n = stored.replace(/^distilbert\./, '');
    if (n.startsWith('pre_classifier.')) return n.replace('pre_classifier.', 'pooler.dense.');
    n = n.replace(/^transformer\.layer\./, 'encoder.layer.');
    for (const [from, to] of RENAMES) n = n.replace(from, to);
    return n;
  }

  static override readonly ignorable: Ignorable = [
    /(^|\.)embeddings\.position_ids$/,
    /^vocab_(transform|layer_norm|projector)\./,
  ];

  static override weightSpecs(c: BertConfig): WeightSpec[] {
    return Bert.weightSpecs(c).filter(
      (s) => !s.name.startsWith('embeddings.token_type_embeddings') && !s.name.startsWith('cls.'),
    );
  }

  override bind(g: Graph, opts: BindOptions = {}): DistilBertGraph {
    return new DistilBertGraph(this, g, opts);
  }

  override get architectureName(): string {
    return this.hasClassifier ? 'DistilBertForSequenceClassification' : 'DistilBertModel';
  }

  /** The BERT name back to DistilBERT's; task models keep the encoder under 'distilbert.'. */
  override storedName(name: string): string {
    if (name.startsWith('pooler.dense.')) return name.replace('pooler.dense.', 'pre_classifier.');
    if (name.startsWith('classifier.')) return name;
    let n = name.replace(/^encoder\.layer\./, 'transformer.layer.');
    for (const [from, to] of RENAMES) n = n.replace(to, from);
    return this.hasClassifier ? `distilbert.${n}` : n;
  }
}

export class DistilBertGraph extends BertGraph {
  /** Word and position embeddings, LayerNorm, dropout: no token types. */
  override embedVectors(words: Value, _tokenTypeIds?: Value, positionIds?: Value): Value {
    const pos = op.gather(this.weight('embeddings.position_embeddings.weight'), positionIds ?? positions(words));
    const h = op.layerNorm(
      op.add(words, pos),
      this.weight('embeddings.LayerNorm.weight'),
      this.weight('embeddings.LayerNorm.bias'),
      { epsilon: this.c.layer_norm_eps },
    );
    return this.dropout.apply(h, this.c.hidden_dropout_prob);
  }

  /** ReLU(pre_classifier(h[:, 0])): DistilBertForSequenceClassification before its dropout and classifier. */
  override pool(h: Value): Value {
    return op.relu(
      linear(this.clsToken(h), { weight: this.weight('pooler.dense.weight'), bias: this.weight('pooler.dense.bias') }),
    );
  }

  override outputs(hFinal: Value, _ctx: BertContext, _inputs: ModelInputs): Record<string, Value> {
    const out: Record<string, Value> = { last_hidden_state: hFinal };
    if (this.model.hasClassifier) out.logits = this.classify(this.pool(hFinal));
    return out;
  }
}

export const DISTILBERT: Architecture<BertConfig> = {
  ...BERT,
  parseConfig: parseDistilBertConfig,
  configJson: distilBertConfigJson,
  fresh: undefined, // loaded only (its config names its sizes otherwise)
  pretraining: undefined, // its MLM head (vocab_*) is skipped on load
  weightSpecs: (c) => DistilBert.weightSpecs(c),
  canonicalName: (s) => DistilBert.canonicalName(s),
  ignorable: DistilBert.ignorable,
  build: (c, w, source) => new DistilBert(c, w, source),
  // layer and tail FLOPs are BERT's (pre_classifier costs what BERT's pooler does)
};
