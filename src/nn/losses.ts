// Losses as graph fragments.
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';

/** One-hot float [B, C] of int64 labels [B]. */
export function oneHot(labels: Value, classes: number, dtype: 'float32' | 'float64' = 'float32'): Value {
  const ids = labels.graph.int64s([...Array(classes).keys()]);
  return op.cast(op.equal(op.unsqueeze(labels, [1]), ids), dtype);
}

/** Mean cross-entropy of logits [B, C] against int64 labels [B]. */
export function crossEntropy(logits: Value, labels: Value): Value {
  const classes = logits.shape[logits.rank - 1];
  if (typeof classes !== 'number') throw new Error(`crossEntropy: the class axis of ${logits} must be fixed`);
  const picked = op.reduceSum(op.mul(op.logSoftmax(logits, -1), oneHot(labels, classes, logits.dtype as 'float32')), [-1], false);
  return op.neg(op.reduceMean(picked, [0], false));
}

/**
 * Cross-entropy where some rows are ignored (weights 0/1 float [B]); mean over the kept rows.
 * Used by masked-LM: only masked positions count.
 */
export function weightedCrossEntropy(logits: Value, labels: Value, weights: Value): Value {
  const classes = logits.shape[logits.rank - 1] as number;
  const picked = op.reduceSum(op.mul(op.logSoftmax(logits, -1), oneHot(labels, classes, logits.dtype as 'float32')), [-1], false);
  const total = op.reduceSum(op.mul(picked, weights), [0], false);
  return op.neg(op.div(total, op.max(op.reduceSum(weights, [0], false), 1)));
}
