// RoBERTa and XLM-RoBERTa as transformers computes them (RobertaModel,
// RobertaForSequenceClassification, and the XLM-R classes): BERT's layers (src/models/bert.ts) with
//   - positions counted from pad_token_id + 1 over the non-pad tokens (create_position_ids_from_input_ids),
//   - no pooler: the head is out_proj(tanh(dense(h[:, 0]))) (RobertaClassificationHead),
//   - weights stored under 'roberta.' next to 'classifier.dense' / 'classifier.out_proj'.
// Its MLM head (lm_head.*) and a RobertaModel's pooler are skipped on load: neither is on the
// classification path. Multiplexing reads the answer where BERT does: the [CLS] (<s>) position.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import { linear } from '../nn/layers.js';
import type { Architecture } from './architecture.js';
import type { BindOptions, ModelInputs } from './backbone.js';
import { BERT, Bert, type BertConfig, type BertContext, BertGraph, parseBertConfig } from './bert.js';
import type { Ignorable, WeightSpec } from './weights.js';

export class Roberta extends Bert {
  override readonly modelType: string = this.config.model_type;
  /** Segment ids stay all 0 (transformers' RoBERTa tokenizers return none; its table has one row). */
  override readonly usesTokenTypes: boolean = false;

  override get hasClassifier(): boolean {
    return this.weights.has('classifier.out_proj.weight');
  }

  override get hasMlmHead(): boolean {
    return false;
  }

  static override canonicalName(stored: string): string {
    return Bert.canonicalName(stored.replace(/^roberta\./, ''));
  }

  static override readonly ignorable: Ignorable = [
    /(^|\.)embeddings\.position_ids$/,
    /^lm_head\./,
    /^(roberta\.)?pooler\./,
  ];

  static override weightSpecs(c: BertConfig): WeightSpec[] {
    const d = c.hidden_size;
    const head = (name: string, shape: number[]): WeightSpec => ({ name, shape, optional: true, group: 'classifier' });
    return [
      ...Bert.weightSpecs(c).filter((s) => !s.optional),
      head('classifier.dense.weight', [d, d]),
      head('classifier.dense.bias', [d]),
      head('classifier.out_proj.weight', [c.num_labels, d]),
      head('classifier.out_proj.bias', [c.num_labels]),
    ];
  }

  override bind(g: Graph, opts: BindOptions = {}): RobertaGraph {
    return new RobertaGraph(this, g, opts);
  }

  override get architectureName(): string {
    const family = this.modelType === 'xlm-roberta' ? 'XLMRoberta' : 'Roberta';
    return this.hasClassifier ? `${family}ForSequenceClassification` : `${family}Model`;
  }

  override storedName(name: string): string {
    return this.hasClassifier && !name.startsWith('classifier.') ? `roberta.${name}` : name;
  }

  protected override classifierHeadShapes(): [string, number[]][] {
    const d = this.config.hidden_size;
    return [
      ['classifier.dense.weight', [d, d]],
      ['classifier.dense.bias', [d]],
      ['classifier.out_proj.weight', [2, d]],
      ['classifier.out_proj.bias', [2]],
    ];
  }

  override finetunes(): boolean {
    return true;
  }
}

export class RobertaGraph extends BertGraph {
  /** Positions pad + 1, pad + 2, ... over the non-pad tokens, pad_token_id at pad tokens. */
  positionIds(inputIds: Value): Value {
    const g = this.graph;
    const pad = this.c.pad_token_id;
    const real = op.cast(
      op.where(op.equal(inputIds, g.int64s([pad])), g.scalar(0, 'float32'), g.scalar(1, 'float32')),
      'float32',
    ); // [B, S]
    const idx = op.range(g, 0, op.dimSize(inputIds, 1), inputIds.shape[1]);
    const upper = op.where(
      op.greater(op.unsqueeze(idx, [1]), op.unsqueeze(idx, [0])),
      g.scalar(0, 'float32'),
      g.scalar(1, 'float32'),
    ); // [S, S]: k <= j
    const count = op.mul(op.matmul(real, upper), real); // running count of real tokens, 0 at pads
    return op.add(op.cast(count, 'int64'), g.int64s([pad]));
  }

  override embed(inputs: ModelInputs): Value {
    const words = op.gather(this.weight('embeddings.word_embeddings.weight'), inputs.inputIds);
    return this.embedVectors(words, inputs.tokenTypeIds, this.positionIds(inputs.inputIds));
  }

  /** dense + tanh on the first token: the part of RobertaClassificationHead before out_proj. */
  override pool(h: Value): Value {
    const p = this.c.classifier_dropout ?? this.c.hidden_dropout_prob;
    return op.tanh(
      linear(this.dropout.apply(this.clsToken(h), p), {
        weight: this.weight('classifier.dense.weight'),
        bias: this.weight('classifier.dense.bias'),
      }),
    );
  }

  override classify(pooled: Value): Value {
    const p = this.c.classifier_dropout ?? this.c.hidden_dropout_prob;
    return linear(this.dropout.apply(pooled, p), {
      weight: this.weight('classifier.out_proj.weight'),
      bias: this.weight('classifier.out_proj.bias'),
    });
  }

  override outputs(hFinal: Value, _ctx: BertContext, _inputs: ModelInputs): Record<string, Value> {
    const out: Record<string, Value> = { last_hidden_state: hFinal };
    if (this.model.hasClassifier) out.logits = this.classify(this.pool(hFinal));
    return out;
  }
}

const robertaFamily = (model_type: 'roberta' | 'xlm-roberta', vocab_size: number): Architecture<BertConfig> => ({
  ...BERT,
  parseConfig: (r) => parseBertConfig(r, model_type, { vocab_size, pad_token_id: 1 }),
  weightSpecs: (c) => Roberta.weightSpecs(c),
  canonicalName: (s) => Roberta.canonicalName(s),
  ignorable: Roberta.ignorable,
  build: (c, w, source) => new Roberta(c, w, source),
  fresh: undefined, // loaded only: its pad id (1) and position offset are not the BERT tokenizer's
  pretraining: undefined, // its MLM head (lm_head.*) is not BERT's cls.predictions, which masked LM here trains
  // layer and tail FLOPs are BERT's: its head's dense layer costs what BERT's pooler does
});

export const ROBERTA = robertaFamily('roberta', 50265);
export const XLM_ROBERTA = robertaFamily('xlm-roberta', 250002);
