// The one interface the multiplexing code sees for BERT, T5 and LLaMA: graph fragments for the
// embeddings, any range of residual-stream layers, and the heads. Running [0, l) then [l, L) is the
// same computation as [0, L), which is what lets RevMUX prefill per query and share the rest.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import type { Example, Task } from '../data/glue.js';
import type { TextTokenizer } from '../io/tokenizer.js';
import type { MuxHead } from '../mux/heads.js';
import type { ModelConfig } from './config.js';
import type { Weights } from './weights.js';

export interface ModelInputs {
  inputIds: Value; // [B, S] int64
  attentionMask: Value; // [B, S] int64, 1 = real token
  tokenTypeIds?: Value; // [B, S] int64 (BERT)
  decoderInputIds?: Value; // [B, T] int64 (T5)
}

export interface BindOptions {
  /** Dropout on (fine-tuning, adapter training with backbone dropout); default off. */
  training?: boolean;
  /** Base seed of the dropout masks, so a training run is reproducible. */
  seed?: number;
  /** Weights to read from graph inputs (trainable) instead of frozen initializers. */
  trainable?: (name: string) => Value | undefined;
}

/** Per-batch values that every layer reuses: mask biases, position biases, rotary tables. */
export interface LayerContext {
  readonly attentionMask: Value;
}

export interface BackboneGraph<C extends LayerContext = LayerContext> {
  readonly model: Backbone<C>;
  readonly graph: Graph;
  /** A weight as this graph reads it: the trainable input when bound with one, else the stored constant. */
  weight(name: string): Value;
  /** Embedding output [B, S, d] (BERT: after its LayerNorm; T5: encoder embeddings). */
  embed(inputs: ModelInputs): Value;
  context(attentionMask: Value): C;
  /** Layers [from, to) of the residual stream (T5: encoder blocks). */
  layers(h: Value, ctx: C, from: number, to: number): Value;
  /** The standard outputs from the final residual stream, named as in the golden files. */
  outputs(hFinal: Value, ctx: C, inputs: ModelInputs): Record<string, Value>;
}

export interface Backbone<C extends LayerContext = LayerContext> {
  /** config.json's model_type. */
  readonly modelType: string;
  readonly config: ModelConfig;
  readonly weights: Weights;
  /** Layers of the residual stream that a split point l can fall between (T5: encoder blocks). */
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Where it came from (folder), for messages and adapter metadata. */
  readonly source: string;
  bind(g: Graph, opts?: BindOptions): BackboneGraph<C>;

  // ---- saving
  /** The `architectures` name written to config.json on save (depends on the heads it holds). */
  readonly architectureName: string;
  /** The stored (Hugging Face) name of weight `name` in a saved folder. */
  storedName(name: string): string;

  // ---- tasks
  /** True when its graphs take token_type_ids (BERT's segments); others get ids and mask only. */
  readonly usesTokenTypes: boolean;
  /** Inputs its whole-model forward takes besides input_ids and attention_mask (golden-file names). */
  readonly forwardInputs: readonly string[];
  /** A task example as this backbone reads it: as-is for a classifier, a prompt for a language model. */
  formatExample(task: Task, e: Example): Example;
  /** Token ids of the two label words it answers with; null when a classifier head answers. */
  labelTokenIds(tok: TextTokenizer, task: Task): [number, number] | null;
  /** Where its answer is read and how it becomes two label logits, for SISO and multiplexed graphs. */
  taskHead(o: { labelIds: [number, number] | null; tokenizer?: TextTokenizer }): MuxHead;
  /** Before SISO fine-tuning: adds the task head weights a classifier lacks (fresh, seeded); checks the labels. */
  prepareForFinetuning(seed: number): void;
  /** Whether SISO fine-tuning trains this weight (BERT's MLM head is off the classification path). */
  finetunes(name: string): boolean;
}

/** Dropout helper shared by the models: seeded per node so runs are reproducible. */
export class DropoutFactory {
  private counter = 0;

  constructor(private readonly opts: BindOptions) {}

  apply(x: Value, p: number): Value {
    if (!this.opts.training || p <= 0) return x;
    return op.dropout(x, p, true, (this.opts.seed ?? 0) * 1000 + this.counter++).output;
  }
}

/** Positions 0..S-1 of a [B, S] tensor, as int64 [S]. */
export function positions(ids: Value): Value {
  return op.range(ids.graph, 0, op.dimSize(ids, 1), ids.shape[1]);
}
