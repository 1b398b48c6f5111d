// RevMUX's auxiliary losses (spec §5.2, §5.3).
import type { Value } from '../engine/graph.js';
import * as op from '../engine/ops.js';

/**
 * x / max(||x||, 1e-12) along the last axis, as torch.nn.functional.normalize. The clamp is on the
 * squared norm, before the square root: sqrt'(0) is infinite, and dummy slots are exactly zero.
 */
export function normalize(x: Value): Value {
  return op.div(x, op.sqrt(op.max(op.reduceSum(op.mul(x, x), [-1], true), 1e-24)));
}

/** Identity matrix [n, n] for a runtime length n (int64 scalar) or a fixed one. */
function eye(g: Value['graph'], n: Value | number, dim: string | number): Value {
  const r = op.range(g, 0, n, dim);
  return op.cast(op.equal(op.unsqueeze(r, [1]), op.unsqueeze(r, [0])), 'float32');
}

/**
 * InfoNCE from students to teachers: Q = scale * s t^T over the batch, each row's positive is
 * its own teacher, negatives every other real row (including its group partners). Rows and
 * columns with valid = 0 (dummy slots) are excluded.
 */
export function infoNce(student: Value, teacher: Value, valid: Value, scale = 20): Value {
  const g = student.graph;
  const q = op.mul(op.matmul(normalize(student), op.transpose(normalize(teacher), [1, 0])), scale); // [R, R]
  const masked = op.add(q, op.mul(op.sub(1, op.unsqueeze(valid, [0])), -1e9));
  const R = op.dimSize(student, 0);
  // log p(own teacher)
  const diag = op.reduceSum(op.mul(op.logSoftmax(masked, -1), eye(g, R, student.shape[0])), [1], false);
  return op.neg(op.div(op.reduceSum(op.mul(diag, valid), [0], false), op.max(op.reduceSum(valid, [0], false), 1)));
}

/**
 * Mapping loss, intended form (spec §5.3, §12 A5): for each group and each ordered pair i != j of
 * slots, the masked mean over tokens of |cos(z_i, stopgrad(z_j))|; averaged over the N(N-1)
 * ordered pairs (= the spec's (forward + backward) / 2 per unordered pair) and over groups.
 * Minimising it pushes different instances of a group towards orthogonal slot vectors.
 * z: [G, N, S, w] per-instance vectors before mixing; mask: [G, N, S] float (1 = real token).
 */
export function mappingLoss(z: Value, mask: Value): Value {
  const n = z.shape[1] as number;
  if (n < 2) return op.mul(op.reduceSum(z, undefined, false), 0);
  const zt = op.transpose(normalize(z), [0, 2, 1, 3]); // [G, S, N, w]
  const cos = op.abs(op.matmul(zt, op.transposeLast2(op.stopGradient(zt)))); // [G, S, N, N]: row i gets the gradient
  const rowMask = op.unsqueeze(op.transpose(mask, [0, 2, 1]), [-1]); // [G, S, N, 1]
  const perPair = op.div(
    op.reduceSum(op.mul(cos, rowMask), [1], false),
    op.unsqueeze(op.max(op.reduceSum(mask, [2], false), 1), [-1]),
  ); // [G, N, N]
  const offDiag = op.mul(perPair, eye(z.graph, n, n));
  const total = op.sub(op.reduceSum(perPair, [1, 2], false), op.reduceSum(offDiag, [1, 2], false)); // drop i == j
  return op.reduceMean(op.div(total, n * (n - 1)), [0], false);
}
