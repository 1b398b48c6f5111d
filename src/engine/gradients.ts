// Vector-Jacobian products, one rule per ONNX op.
//
// A rule gets the forward node, the gradients of its outputs (null where an output is unused) and
// which inputs need a gradient; it returns one gradient per input (null = none). Rules build the
// backward pass from the same ops as the forward pass, so it is shape-checked too.
import type { Node, Value } from './graph.js';
import * as op from './ops.js';
import { type Dim, sameShape } from './shape.js';

export type VjpRule = (node: Node, dOut: (Value | null)[], wants: boolean[]) => (Value | null)[];

const ints = (n: Node, name: string): number[] => {
  const a = n.attrs[name];
  if (!a || a.kind !== 'ints') throw new Error(`${n.opType}: attribute ${name} missing`);
  return a.value;
};
const int = (n: Node, name: string, dflt: number): number => {
  const a = n.attrs[name];
  return a && a.kind === 'int' ? a.value : dflt;
};
const float = (n: Node, name: string, dflt: number): number => {
  const a = n.attrs[name];
  return a && a.kind === 'float' ? a.value : dflt;
};

/** The int64 initializer data behind a constant input (axes, sizes, starts...). */
function constInts(v: Value): number[] {
  const init = v.graph.initializers.find((i) => i.value === v);
  if (!init || !(init.data instanceof BigInt64Array)) throw new Error(`expected a constant int64 input, got ${v}`);
  return Array.from(init.data, Number);
}

/** Sums `d` down to `target`'s shape, undoing numpy broadcasting. */
export function unbroadcast(d: Value, target: Value): Value {
  if (sameShape(d.shape, target.shape)) return d;
  const lead = d.rank - target.rank;
  const keepAxes: number[] = [];
  for (let i = lead; i < d.rank; i++) if (target.shape[i - lead] === 1 && d.shape[i] !== 1) keepAxes.push(i);
  let r = d;
  if (keepAxes.length) r = op.reduceSum(r, keepAxes, true);
  if (lead > 0) r = op.reduceSum(r, [...Array(lead).keys()], false);
  if (!sameShape(r.shape, target.shape)) r = op.reshape(r, target.shape);
  return r;
}

function matmulGrads(a: Value, b: Value, d: Value, wants: boolean[]): (Value | null)[] {
  if (a.rank < 2 || b.rank < 2) throw new Error(`MatMul gradient needs operands of rank >= 2 (got ${a}, ${b})`);
  let da: Value | null = null;
  let db: Value | null = null;
  if (wants[0]) da = unbroadcast(op.matmul(d, op.transposeLast2(b)), a);
  if (wants[1]) {
    if (b.rank === 2 && a.rank > 2) {
      // x[..., K] @ W[K, N]: fold the batch axes into rows, so dW is one [K, rows] x [rows, N] GEMM
      // instead of a batched product that is summed afterwards.
      const k = a.shape[a.rank - 1];
      const n = d.shape[d.rank - 1];
      db = op.matmul(op.transposeLast2(op.reshape(a, [-1, k])), op.reshape(d, [-1, n]));
    } else db = unbroadcast(op.matmul(op.transposeLast2(a), d), b);
  }
  return [da, db];
}

/** Broadcasts a reduced gradient back over the reduced axes of x. */
function expandReduced(n: Node, d: Value, axes: number[]): Value {
  const x = n.inputs[0]!;
  const keep = int(n, 'keepdims', 1) === 1;
  const dk = keep ? d : op.unsqueeze(d, axes);
  return op.expand(dk, x.shape, [x]);
}

function reduceAxes(n: Node): number[] {
  if (n.opType === 'ReduceSum') return constInts(n.inputs[1]!);
  return ints(n, 'axes');
}

/** The number of elements reduced over, as a scalar of x's dtype (read at run time if symbolic). */
function reducedCount(x: Value, axes: number[]): Value {
  const dims = axes.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === 'number'))
    return x.graph.scalar(
      (dims as number[]).reduce((p, q) => p * q, 1),
      x.dtype,
    );
  const sizes = op.reduceSum(op.cast(op.expand(x.graph.scalar(1, x.dtype), x.shape, [x]), x.dtype), axes, false);
  return op.reshape(op.slice(op.reshape(sizes, [-1]), [{ axis: 0, start: 0, end: 1 }]), []);
}

export const VJP_RULES: Record<string, VjpRule> = {
  Identity: (_n, [d]) => [d],
  Add: (n, [d], w) => [w[0] ? unbroadcast(d!, n.inputs[0]!) : null, w[1] ? unbroadcast(d!, n.inputs[1]!) : null],
  Sub: (n, [d], w) => [
    w[0] ? unbroadcast(d!, n.inputs[0]!) : null,
    w[1] ? unbroadcast(op.neg(d!), n.inputs[1]!) : null,
  ],
  Mul: (n, [d], w) => {
    const [a, b] = n.inputs as Value[];
    return [w[0] ? unbroadcast(op.mul(d!, b), a) : null, w[1] ? unbroadcast(op.mul(d!, a), b) : null];
  },
  Div: (n, [d], w) => {
    const [a, b] = n.inputs as Value[];
    const y = n.outputs[0];
    const q = op.div(d!, b);
    return [w[0] ? unbroadcast(q, a) : null, w[1] ? unbroadcast(op.neg(op.mul(q, y)), b) : null];
  },
  Pow: (n, [d], w) => {
    const [a, b] = n.inputs as Value[];
    const y = n.outputs[0];
    // d/da a^b = b * a^(b-1); d/db a^b = a^b * log(a) (only where a > 0 is meaningful).
    return [
      w[0] ? unbroadcast(op.mul(d!, op.mul(b, op.pow(a, op.sub(b, 1)))), a) : null,
      w[1] ? unbroadcast(op.mul(d!, op.mul(y, op.log(a))), b) : null,
    ];
  },
  Min: (n, [d], w) => minMax(n, d!, w, 'min'),
  Max: (n, [d], w) => minMax(n, d!, w, 'max'),
  Neg: (_n, [d]) => [op.neg(d!)],
  Abs: (n, [d]) => {
    const x = n.inputs[0]!;
    return [op.mul(d!, op.sub(op.cast(op.greater(x, 0), x.dtype), op.cast(op.less(x, 0), x.dtype)))];
  },
  Sqrt: (n, [d]) => [op.div(op.mul(d!, 0.5), n.outputs[0])],
  Reciprocal: (n, [d]) => {
    const y = n.outputs[0];
    return [op.neg(op.mul(d!, op.mul(y, y)))];
  },
  Exp: (n, [d]) => [op.mul(d!, n.outputs[0])],
  Log: (n, [d]) => [op.div(d!, n.inputs[0]!)],
  Erf: (n, [d]) => {
    const x = n.inputs[0]!;
    return [op.mul(d!, op.mul(op.exp(op.neg(op.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Tanh: (n, [d]) => {
    const y = n.outputs[0];
    return [op.mul(d!, op.sub(1, op.mul(y, y)))];
  },
  Sigmoid: (n, [d]) => {
    const y = n.outputs[0];
    return [op.mul(d!, op.mul(y, op.sub(1, y)))];
  },
  Relu: (n, [d]) => [op.where(op.greater(n.inputs[0]!, 0), d!, 0)],
  Sin: (n, [d]) => [op.mul(d!, op.cos(n.inputs[0]!))],
  Cos: (n, [d]) => [op.neg(op.mul(d!, op.sin(n.inputs[0]!)))],
  Where: (n, [d], w) => {
    const [c, a, b] = n.inputs as Value[];
    return [null, w[1] ? unbroadcast(op.where(c, d!, 0), a) : null, w[2] ? unbroadcast(op.where(c, 0, d!), b) : null];
  },
  Cast: (n, [d]) => [op.cast(d!, n.inputs[0]!.dtype)],
  MatMul: (n, [d], w) => matmulGrads(n.inputs[0]!, n.inputs[1]!, d!, w),
  // int8 weights are frozen: only x gets a gradient, through the dequantized weights (int8 * scale).
  DynamicQuantizeMatMul: (n, [d], w) => {
    const [x, b, scale, , bias] = n.inputs;
    const dequantized = op.mul(op.cast(b!, 'float32'), scale!); // [K, N]
    const dx = w[0] ? unbroadcast(op.matmul(d!, op.transposeLast2(dequantized)), x!) : null;
    return [dx, null, null, null, bias && w[4] ? unbroadcast(d!, bias) : null];
  },
  Gemm: (n, [d], w) => {
    const [a, b, c] = n.inputs as Value[];
    const alpha = float(n, 'alpha', 1);
    const beta = float(n, 'beta', 1);
    const tA = int(n, 'transA', 0) === 1;
    const tB = int(n, 'transB', 0) === 1;
    const ds = alpha === 1 ? d! : op.mul(d!, alpha);
    // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC, then undo the transposes.
    const opA = tA ? op.transposeLast2(a) : a;
    const opB = tB ? op.transposeLast2(b) : b;
    let da: Value | null = null;
    let db: Value | null = null;
    if (w[0]) {
      const g = op.matmul(ds, op.transposeLast2(opB));
      da = tA ? op.transposeLast2(g) : g;
    }
    if (w[1]) {
      const g = op.matmul(op.transposeLast2(opA), ds);
      db = tB ? op.transposeLast2(g) : g;
    }
    const dc = c && w[2] ? unbroadcast(beta === 1 ? d! : op.mul(d!, beta), c) : null;
    return [da, db, dc];
  },
  Softmax: (n, [d]) => {
    const y = n.outputs[0];
    const axis = int(n, 'axis', -1);
    const s = op.reduceSum(op.mul(d!, y), [axis], true);
    return [op.mul(y, op.sub(d!, s))];
  },
  LogSoftmax: (n, [d]) => {
    const y = n.outputs[0];
    const axis = int(n, 'axis', -1);
    return [op.sub(d!, op.mul(op.exp(y), op.reduceSum(d!, [axis], true)))];
  },
  LayerNormalization: (n, [dy], w) => {
    if (!dy) return [null, null, null];
    const [x, scale, bias] = n.inputs as Value[];
    const [, mean, invStd] = n.outputs;
    const axis = int(n, 'axis', -1);
    const normAxes = x.shape.map((_, i) => i).filter((i) => i >= axis);
    const leadAxes = x.shape.map((_, i) => i).filter((i) => i < axis);
    const xhat = op.mul(op.sub(x, op.stopGradient(mean)), op.stopGradient(invStd));
    let dx: Value | null = null;
    if (w[0]) {
      const g = op.mul(dy, scale);
      const meanG = op.reduceMean(g, normAxes, true);
      const meanGx = op.reduceMean(op.mul(g, xhat), normAxes, true);
      dx = op.mul(op.stopGradient(invStd), op.sub(op.sub(g, meanG), op.mul(xhat, meanGx)));
    }
    const sumLead = (v: Value) => (leadAxes.length ? op.reduceSum(v, leadAxes, false) : v);
    return [dx, w[1] ? sumLead(op.mul(dy, xhat)) : null, bias && w[2] ? sumLead(dy) : null];
  },
  ReduceSum: (n, [d]) => [expandReduced(n, d!, reduceAxes(n)), null],
  ReduceMean: (n, [d]) => {
    const x = n.inputs[0]!;
    const axes = reduceAxes(n);
    return [op.div(expandReduced(n, d!, axes), reducedCount(x, axes))];
  },
  ReduceMax: (n, [d]) => {
    const x = n.inputs[0]!;
    const axes = reduceAxes(n);
    const keep = int(n, 'keepdims', 1) === 1;
    const y = keep ? n.outputs[0] : op.unsqueeze(n.outputs[0], axes);
    // Ties share the gradient equally, as in PyTorch's amax.
    const hit = op.cast(op.equal(x, y), x.dtype);
    const share = op.div(hit, op.reduceSum(hit, axes, true));
    return [op.mul(expandReduced(n, d!, axes), share)];
  },
  Reshape: (n, [d]) => [reshapeBack(d!, n.inputs[0]!), null],
  Unsqueeze: (n, [d]) => [reshapeBack(d!, n.inputs[0]!), null],
  Squeeze: (n, [d]) => [reshapeBack(d!, n.inputs[0]!), null],
  Expand: (n, [d]) => [unbroadcast(d!, n.inputs[0]!), null],
  Transpose: (n, [d]) => {
    const perm = ints(n, 'perm');
    const inv: number[] = [];
    perm.forEach((p, i) => (inv[p] = i));
    return [op.transpose(d!, inv)];
  },
  Concat: (n, [d], w) => {
    const axis = int(n, 'axis', 0);
    const sizes = n.inputs.map((x) => x!.shape[axis]);
    if (!sizes.every((s) => typeof s === 'number'))
      throw new Error(
        `Concat gradient along a symbolic axis (${sizes.join(', ')}) is not supported; concatenate along a ` +
          `fixed-size axis`,
      );
    const parts = op.split(d!, sizes as number[], axis);
    return parts.map((p, i) => (w[i] ? p : null));
  },
  Split: (n, dOut) => {
    const axis = int(n, 'axis', 0);
    const parts = n.outputs.map((o, i) => dOut[i] ?? op.zerosLike(o));
    return [op.concat(parts, axis), null];
  },
  Slice: (n, [d]) => {
    const [x, startsV, endsV, axesV, stepsV] = n.inputs as Value[];
    const starts = constInts(startsV);
    const ends = constInts(endsV);
    const axes = constInts(axesV);
    const steps = stepsV ? constInts(stepsV) : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) throw new Error(`Slice gradient supports step 1 only (got steps [${steps}])`);
    return [padSliceBack(d!, x, starts, ends, axes), null, null, null, null];
  },
  Gather: (n, [d]) => {
    const [data, idx] = n.inputs as Value[];
    if (int(n, 'axis', 0) !== 0) throw new Error(`Gather gradient supports axis 0 only (${n.outputs[0]})`);
    return [op.scatterAddRows(data, idx, d!), null];
  },
  GatherElements: (n, [d]) => {
    const [x, idx] = n.inputs as Value[];
    return [op.scatterElementsAdd(x, idx, d!, int(n, 'axis', 0)), null];
  },
  Dropout: (n, [d]) => {
    const [x, ratioV, trainingV] = n.inputs as Value[];
    if (!constFloat(trainingV)) return [d, null, null]; // inference mode: identity, no rescaling
    const ratio = constFloat(ratioV);
    const mask = op.cast(n.outputs[1], x.dtype);
    return [op.mul(op.mul(d!, mask), 1 / (1 - ratio)), null, null];
  },
};

function constFloat(v: Value): number {
  const init = v.graph.initializers.find((i) => i.value === v);
  if (!init) throw new Error(`expected a constant, got ${v}`);
  return Number(init.data[0]);
}

function minMax(n: Node, d: Value, w: boolean[], which: 'min' | 'max'): (Value | null)[] {
  const [a, b] = n.inputs as Value[];
  // Ties go to the first operand, so the gradient is routed once, never doubled.
  const bWins = op.cast(which === 'max' ? op.less(a, b) : op.greater(a, b), a.dtype);
  return [w[0] ? unbroadcast(op.mul(d, op.sub(1, bWins)), a) : null, w[1] ? unbroadcast(op.mul(d, bWins), b) : null];
}

function reshapeBack(d: Value, x: Value): Value {
  return op.reshape(d, x.shape, [x]);
}

/** Zero-pads the slice gradient back to x's shape. */
function padSliceBack(d: Value, x: Value, starts: number[], ends: number[], axes: number[]): Value {
  const g = x.graph;
  const rank = x.rank;
  const begin: (number | Value)[] = new Array(rank).fill(0);
  const end: (number | Value)[] = new Array(rank).fill(0);
  axes.forEach((axRaw, k) => {
    const ax = axRaw < 0 ? axRaw + rank : axRaw;
    const dim = x.shape[ax];
    if (typeof dim === 'number') {
      const s = Math.min(Math.max(starts[k] < 0 ? starts[k] + dim : starts[k], 0), dim);
      const e = Math.min(Math.max(ends[k] < 0 ? ends[k] + dim : ends[k], 0), dim);
      begin[ax] = s;
      end[ax] = dim - Math.max(e, s);
    } else {
      if (starts[k] < 0 || ends[k] < 0)
        throw new Error(`Slice gradient on symbolic axis '${dim}' needs non-negative starts and ends`);
      begin[ax] = starts[k];
      // pad at the end = dim - min(end, dim), read at run time
      const dimV = op.reshape(op.slice(op.shapeOf(x), [{ axis: 0, start: ax, end: ax + 1 }]), [1]);
      end[ax] = op.sub(dimV, op.min(dimV, g.int64s([ends[k]])));
    }
  });
  const all = [...begin, ...end];
  const pads = all.every((p) => typeof p === 'number')
    ? g.int64s(all as number[])
    : op.concat(
        all.map((p) => (typeof p === 'number' ? g.int64s([p]) : p)),
        0,
      );
  return op.padZeros(d, pads, x.shape as Dim[]);
}
