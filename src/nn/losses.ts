// Losses as graph fragments.
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';

/** One-hot float [B, C] of int64 labels [B]. */
export function oneHot(labels: Value, classes: number, dtype: 'float32' | 'float64' = 'float32'): Value {
  const ids = labels.graph.int64s([...Array(classes).keys()]);
  return op.cast(op.equal(op.unsqueeze(labels, [1]), ids), dtype);
}

/** log p(label) per row: logits [R, C], int64 labels [R] -> [R]. */
export function labelLogProb(logits: Value, labels: Value): Value {
  return op.squeeze(op.gatherElements(op.logSoftmax(logits, -1), op.unsqueeze(labels, [1]), 1), [1]);
}

/** Mean cross-entropy of logits [R, C] against int64 labels [R]. */
export function crossEntropy(logits: Value, labels: Value): Value {
  return op.neg(op.reduceMean(labelLogProb(logits, labels), [0], false));
}

/** How many rows have their label's logit as the maximum (ties count as correct), as a float scalar. */
export function correctCount(logits: Value, labels: Value): Value {
  const picked = op.gatherElements(logits, op.unsqueeze(labels, [1]), 1);
  const hit = op.cast(op.equal(picked, op.reduceMax(logits, [1], true)), 'float32');
  return op.reduceSum(hit, undefined, false);
}

/**
 * Cross-entropy where some rows are ignored (weights 0/1 float [B]); mean over the kept rows.
 * Used by masked-LM: only masked positions count.
 */
export function weightedCrossEntropy(logits: Value, labels: Value, weights: Value): Value {
  const picked = labelLogProb(logits, labels);
  const total = op.reduceSum(op.mul(picked, weights), [0], false);
  return op.neg(op.div(total, op.max(op.reduceSum(weights, [0], false), 1)));
}
