// Where each backbone's answer is and how it becomes two label logits (spec §2, §3.7, §3.10):
//   BERT  — the frozen pooler on the (mixed) [CLS] state, then the frozen classifier; InfoNCE uses
//           the [CLS] final state itself (spec A15).
//   T5    — encoder [l, L) + final norm, the whole decoder on decoder_input_ids, decoder step 1
//           (head-scaled); logits = the two label-word rows of the LM head.
//   LLaMA — layers [l, L) + final norm at each instance's last real token; logits = the two
//           label-word rows of the LM head.
// Only answer positions are demultiplexed and up-projected (spec §8), never every token.
import type { Graph, Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import type { Backbone, BackboneGraph, LayerContext } from '../models/backbone.js';
import { Bert, type BertGraph } from '../models/bert.js';
import { Llama, type LlamaGraph } from '../models/llama.js';
import { T5, type T5Graph } from '../models/t5.js';

export interface AnswerVectors {
  /** [G, d] when every instance answers at the same position, [G, N, d] when each has its own. */
  answer: Value;
  /** InfoNCE student source, same layout as `answer`; null = use `answer`. */
  nce: Value | null;
}

export interface MuxHead {
  /** Extra graph inputs this backbone needs (answer positions, decoder ids), declared on g for `rows` rows of `slots` instances. */
  declareInputs(g: Graph, rows: string, slots: number): Record<string, Value>;
  /** Runs the frozen layers [l, L) on mixed rows and returns the vectors to demultiplex. */
  mixed(b: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>): AnswerVectors;
  /** Two label logits from d-wide vectors [..., d]. */
  logits(b: BackboneGraph<LayerContext>, y: Value): Value;
  /** SISO from prefilled states [B, S, d]: label logits [B, 2] and the teacher vector [B, d]. */
  siso(b: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>): { logits: Value; teacher: Value };
  /** True when `answer` is [G, N, d] (per-instance positions). */
  readonly perInstance: boolean;
}

/** rows [R, S, d] at positions pos [R, K] (int64) -> [R, K, d]. */
export function gatherRows(h: Value, pos: Value): Value {
  const g = h.graph;
  const R = op.dimSize(h, 0);
  const S = op.dimSize(h, 1);
  const base = op.mul(op.range(g, 0, R, h.shape[0]), S); // [R]
  const flatIdx = op.add(op.unsqueeze(base, [1]), pos); // [R, K]
  const flat = op.reshape(h, [-1, h.shape[2]]);
  return op.gather(flat, flatIdx, 0);
}

class BertHead implements MuxHead {
  readonly perInstance = false;
  declareInputs(): Record<string, Value> {
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

/** Logits of the two label words only: y [..., d] times their LM-head rows (tied embeddings or lm_head). */
function labelLogits(b: T5Graph | LlamaGraph, tiedTable: string, labelIds: [number, number], y: Value): Value {
  const name = b.model.config.tie_word_embeddings ? tiedTable : 'lm_head.weight';
  const rows = op.gather(b.model.weights.value(b.graph, name), b.graph.int64s(labelIds), 0); // [2, d]
  return op.matmul(y, op.transpose(rows, [1, 0]));
}

class T5Head implements MuxHead {
  readonly perInstance = false;
  constructor(
    private readonly labelIds: [number, number],
    private readonly answerStep = 1,
  ) {}
  declareInputs(g: Graph, rows: string): Record<string, Value> {
    return { decoder_input_ids: g.input('decoder_input_ids', 'int64', [rows, 'target']) };
  }
  private answerVector(b: T5Graph, hL: Value, mask: Value, dec: Value): Value {
    const out = b.decode(dec, b.encoderFinal(hL), mask);
    return b.headInput(op.squeeze(op.slice(out, [{ axis: 1, start: this.answerStep, end: this.answerStep + 1 }]), [1]));
  }
  mixed(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>): AnswerVectors {
    const b = bg as T5Graph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    return { answer: this.answerVector(b, hL, mask, extra.decoder_input_ids), nce: null };
  }
  logits(bg: BackboneGraph<LayerContext>, y: Value): Value {
    return labelLogits(bg as T5Graph, 'shared.weight', this.labelIds, y);
  }
  siso(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>) {
    const b = bg as T5Graph;
    const hL = b.layers(h, b.context(mask), l, b.model.numLayers);
    const t = this.answerVector(b, hL, mask, extra.decoder_input_ids);
    return { logits: this.logits(b, t), teacher: t };
  }
}

class LlamaHead implements MuxHead {
  readonly perInstance = true;
  constructor(private readonly labelIds: [number, number]) {}
  declareInputs(g: Graph, rows: string, slots: number): Record<string, Value> {
    // per instance: index of its last real token; [G, N] when grouped, [B, 1] for SISO
    return { answer_pos: g.input('answer_pos', 'int64', [rows, slots]) };
  }
  mixed(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>): AnswerVectors {
    const b = bg as LlamaGraph;
    const hL = b.finalNorm(b.layers(h, b.context(mask), l, b.model.numLayers));
    return { answer: gatherRows(hL, extra.answer_pos), nce: null };
  }
  logits(bg: BackboneGraph<LayerContext>, y: Value): Value {
    return labelLogits(bg as LlamaGraph, 'model.embed_tokens.weight', this.labelIds, y);
  }
  siso(bg: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>) {
    const b = bg as LlamaGraph;
    const hL = b.finalNorm(b.layers(h, b.context(mask), l, b.model.numLayers));
    const t = op.squeeze(gatherRows(hL, extra.answer_pos), [1]);
    return { logits: this.logits(b, t), teacher: t };
  }
}

/** The head for a backbone; T5 and LLaMA need the token ids of the two label words. */
export function headFor(model: Backbone, labelIds?: [number, number]): MuxHead {
  if (model instanceof Bert) {
    if (!model.hasClassifier) throw new Error(`${model.source}: this BERT has no pooler + classifier; RevMUX needs a task classifier (make one with revmux finetune)`);
    if (model.config.num_labels !== 2) throw new Error(`${model.source}: the classifier has ${model.config.num_labels} labels; the GLUE tasks here have 2`);
    return new BertHead();
  }
  if (!labelIds) throw new Error(`${model.modelType} backbones answer with label words: their token ids are needed`);
  if (model instanceof T5) return new T5Head(labelIds);
  if (model instanceof Llama) return new LlamaHead(labelIds);
  throw new Error(`no multiplexing head for ${model.modelType}`);
}
