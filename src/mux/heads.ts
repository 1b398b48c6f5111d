// The interface of a backbone's task head: where its answer is and how it becomes two label logits
// (spec §2, §3.7, §3.10), for SISO graphs and for multiplexed rows. Each architecture module
// implements it (BERT: pooler + classifier; T5: decoder step 1; LLaMA-style decoders: last token,
// label-word rows of the LM head). Only answer positions are demultiplexed and up-projected
// (spec §8), never every token.
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';
import type { BackboneGraph, LayerContext } from '../models/backbone.js';

export interface AnswerVectors {
  /** [G, d] when every instance answers at the same position, [G, N, d] when each has its own. */
  answer: Value;
  /** InfoNCE student source, same layout as `answer`; null = use `answer`. */
  nce: Value | null;
}

export interface MuxHead {
  /**
   * What the head needs besides the states (answer positions, decoder ids), derived in the graph from
   * the attention mask: [rows, slots, S] for grouped instances, [B, S] for SISO. Inputs are right-padded,
   * so graphs take token ids and a mask and nothing else, exported ones included.
   */
  answerInputs(mask: Value): Record<string, Value>;
  /** Runs the frozen layers [l, L) on mixed rows and returns the vectors to demultiplex. */
  mixed(b: BackboneGraph<LayerContext>, h: Value, mask: Value, l: number, extra: Record<string, Value>): AnswerVectors;
  /** Two label logits from d-wide vectors [..., d]. */
  logits(b: BackboneGraph<LayerContext>, y: Value): Value;
  /** SISO from prefilled states [B, S, d]: label logits [B, 2] and the teacher vector [B, d]. */
  siso(
    b: BackboneGraph<LayerContext>,
    h: Value,
    mask: Value,
    l: number,
    extra: Record<string, Value>,
  ): { logits: Value; teacher: Value };
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

/** Logits of the two label words only: y [..., d] times their rows of the LM head's table. */
export function labelLogits(
  b: BackboneGraph<LayerContext>,
  table: string,
  labelIds: [number, number],
  y: Value,
): Value {
  const rows = op.gather(b.weight(table), b.graph.int64s(labelIds), 0); // [2, d]
  return op.matmul(y, op.transpose(rows, [1, 0]));
}

/**
 * Each instance's last real token, the answer position of a decoder-only model: [rows, slots] from a
 * [rows, slots, S] mask, [B, 1] from a [B, S] one. An empty (dummy) slot answers at 0.
 */
export function lastTokenPositions(mask: Value): Value {
  const count = op.reduceSum(mask, [mask.rank - 1], mask.rank === 2);
  return op.max(op.sub(count, mask.graph.int64s([1])), mask.graph.int64s([0]));
}
