// Reverse-mode automatic differentiation over the graph being built.
//
// grad(loss, wrt) walks the nodes that lie on a path from some `wrt` value to `loss` in reverse and
// appends each one's vector-Jacobian product (gradients.ts) to the same graph. Frozen initializers,
// integer tensors, comparisons and stop-gradients are constants: nodes that only depend on them get
// no backward work at all.
import type { Node, Value } from './graph.js';
import { isFloat } from './dtype.js';
import { add, expand } from './ops.js';
import { VJP_RULES } from './gradients.js';
import { zerosLike } from './ops.js';

export class GradientError extends Error {
  override name = 'GradientError';
}

/**
 * Appends d(loss)/d(w) for every w in `wrt` and returns them in the same order.
 * `loss` must be a float scalar (any shape whose dims are all 1 is accepted).
 * A `wrt` that does not influence the loss gets zeros.
 */
export function grad(loss: Value, wrt: readonly Value[]): Value[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) throw new GradientError(`grad: loss ${loss} is not a float tensor`);
  if (loss.shape.some((d) => d !== 1)) throw new GradientError(`grad: loss ${loss} is not a scalar`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GradientError(`grad: ${w} belongs to another graph`);
    if (!isFloat(w.dtype)) throw new GradientError(`grad: cannot differentiate with respect to ${w} (not float)`);
  }
  const nodes = g.nodes.slice(); // the backward nodes appended below are never differentiated

  // Values that depend on some wrt through differentiable nodes.
  const active = new Set<Value>(wrt);
  for (const n of nodes) {
    if (n.noGrad || !(n.opType in VJP_RULES)) continue;
    if (n.inputs.some((i) => i !== null && active.has(i)))
      for (const o of n.outputs) if (isFloat(o.dtype)) active.add(o);
  }
  if (!active.has(loss)) return wrt.map((w) => zerosLike(w));

  // Values the loss depends on (restricted to active ones), so dead branches cost nothing.
  const needed = new Set<Value>([loss]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (n.outputs.some((o) => needed.has(o))) for (const i of n.inputs) if (i && active.has(i)) needed.add(i);
  }

  const grads = new Map<Value, Value>([[loss, expand(g.scalar(1, loss.dtype), loss.shape)]]);
  const accumulate = (v: Value, d: Value) => {
    const prev = grads.get(v);
    grads.set(v, prev ? add(prev, d) : d);
  };

  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (n.noGrad) continue;
    const dOut = n.outputs.map((o) => grads.get(o) ?? null);
    if (dOut.every((d) => d === null)) continue;
    const wants = n.inputs.map((i) => i !== null && needed.has(i));
    if (!wants.some(Boolean)) continue;
    const rule = VJP_RULES[n.opType];
    if (!rule) throw new GradientError(`grad: no gradient rule for ${n.opType} (output ${n.outputs[0]})`);
    const dIn = rule(n as Node, dOut, wants);
    n.inputs.forEach((input, i) => {
      const d = dIn[i];
      if (input && wants[i] && d) accumulate(input, d);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}
