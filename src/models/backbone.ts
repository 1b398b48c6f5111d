// The one interface the multiplexing code sees for BERT, T5 and LLaMA: graph fragments for the
// embeddings, any range of residual-stream layers, and the heads. Running [0, l) then [l, L) is the
// same computation as [0, L), which is what lets RevMUX prefill per query and share the rest.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
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
  readonly graph: Graph;
  /** Embedding output [B, S, d] (BERT: after its LayerNorm; T5: encoder embeddings). */
  embed(inputs: ModelInputs): Value;
  context(attentionMask: Value): C;
  /** Layers [from, to) of the residual stream (T5: encoder blocks). */
  layers(h: Value, ctx: C, from: number, to: number): Value;
  /** The standard outputs from the final residual stream, named as in the golden files. */
  outputs(hFinal: Value, ctx: C, inputs: ModelInputs): Record<string, Value>;
}

export interface Backbone<C extends LayerContext = LayerContext> {
  readonly modelType: 'bert' | 't5' | 'llama';
  readonly config: ModelConfig;
  readonly weights: Weights;
  /** Layers of the residual stream that a split point l can fall between (T5: encoder blocks). */
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Where it came from (folder), for messages and adapter metadata. */
  readonly source: string;
  bind(g: Graph, opts?: BindOptions): BackboneGraph<C>;
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
