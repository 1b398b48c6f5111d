// Graph-building operations with shape and dtype inference.
//
// Every function takes Values (or plain numbers, which become scalar constants of the other
// operand's dtype) and appends ONNX nodes to the operands' graph. Shape mistakes are reported
// here, at build time, naming the op and both operands, instead of as an onnxruntime error later.
import type { DType } from './dtype.js';
import { dtypeOfArray, isFloat, onnxDataType } from './dtype.js';
import { type Attr, CONTRIB_DOMAIN, type Graph, Value, attr } from './graph.js';
import { type Dim, ShapeError, broadcastShapes, divideDims, formatShape, multiplyDims, normAxis } from './shape.js';

export type Operand = Value | number;

function graphOf(...xs: Operand[]): Graph {
  for (const x of xs) if (x instanceof Value) return x.graph;
  throw new Error('an op needs at least one Value operand (got only numbers)');
}

function lift(g: Graph, x: Operand, dtype: DType): Value {
  return x instanceof Value ? x : g.scalar(x, dtype);
}

function dtypeOf(...xs: Operand[]): DType {
  for (const x of xs) if (x instanceof Value) return x.dtype;
  return 'float32';
}

function same(op: string, a: Value, b: Value): void {
  if (a.dtype !== b.dtype) throw new TypeError(`${op}: operand dtypes differ: ${a} vs ${b}`);
}

function requireFloat(op: string, x: Value): void {
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: expects a float tensor, got ${x}`);
}

function one(
  g: Graph,
  op: string,
  inputs: (Value | null)[],
  dtype: DType,
  shape: readonly Dim[],
  attrs: Record<string, Attr> = {},
): Value {
  return g.addNode(op, inputs, [{ dtype, shape }], attrs)[0];
}

// ---------------------------------------------------------------- element-wise

/** Two operands lifted to one dtype, with their broadcast shape. */
function operands(op: string, a: Operand, b: Operand) {
  const g = graphOf(a, b);
  const dt = dtypeOf(a, b);
  const x = lift(g, a, dt);
  const y = lift(g, b, dt);
  same(op, x, y);
  return { g, dt, x, y, shape: broadcastShapes(x.shape, y.shape, () => `${op}(${x}, ${y})`) };
}

function binary(op: string, a: Operand, b: Operand): Value {
  const { g, dt, x, y, shape } = operands(op, a, b);
  return one(g, op, [x, y], dt, shape);
}

export const add = (a: Operand, b: Operand) => binary('Add', a, b);
export const sub = (a: Operand, b: Operand) => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('Mul', a, b);
export const div = (a: Operand, b: Operand) => binary('Div', a, b);
export const pow = (a: Operand, b: Operand) => binary('Pow', a, b);
export const min = (a: Operand, b: Operand) => binary('Min', a, b);
export const max = (a: Operand, b: Operand) => binary('Max', a, b);

function compare(op: string, a: Operand, b: Operand): Value {
  const { g, x, y, shape } = operands(op, a, b);
  return one(g, op, [x, y], 'bool', shape);
}

export const equal = (a: Operand, b: Operand) => compare('Equal', a, b);
export const less = (a: Operand, b: Operand) => compare('Less', a, b);
export const greater = (a: Operand, b: Operand) => compare('Greater', a, b);

function unary(op: string, x: Value, float = true): Value {
  if (float) requireFloat(op, x);
  return one(x.graph, op, [x], x.dtype, x.shape);
}

export const neg = (x: Value) => unary('Neg', x, false);
export const abs = (x: Value) => unary('Abs', x, false);
export const sqrt = (x: Value) => unary('Sqrt', x);
export const reciprocal = (x: Value) => unary('Reciprocal', x);
export const exp = (x: Value) => unary('Exp', x);
export const log = (x: Value) => unary('Log', x);
export const erf = (x: Value) => unary('Erf', x);
export const tanh = (x: Value) => unary('Tanh', x);
export const sigmoid = (x: Value) => unary('Sigmoid', x);
export const relu = (x: Value) => unary('Relu', x);
export const sin = (x: Value) => unary('Sin', x);
export const cos = (x: Value) => unary('Cos', x);
export const identity = (x: Value) => unary('Identity', x, false);

/** Identity for the forward pass; autodiff treats the result as a constant. */
export function stopGradient(x: Value): Value {
  return x.graph.addNode('Identity', [x], [{ dtype: x.dtype, shape: x.shape }], {}, true)[0];
}

export function where(cond: Value, a: Operand, b: Operand): Value {
  if (cond.dtype !== 'bool') throw new TypeError(`Where: condition must be bool, got ${cond}`);
  const g = cond.graph;
  const dt = dtypeOf(a, b);
  const x = lift(g, a, dt);
  const y = lift(g, b, dt);
  same('Where', x, y);
  const what = () => `Where(${cond}, ${x}, ${y})`;
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape, what), y.shape, what);
  return one(g, 'Where', [cond, x, y], dt, shape);
}

export function cast(x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return one(x.graph, 'Cast', [x], to, x.shape, { to: attr.int(onnxDataType(to)) });
}

// ---------------------------------------------------------------- linear algebra

export function matmul(a: Value, b: Value): Value {
  same('MatMul', a, b);
  requireFloat('MatMul', a);
  const what = () => `MatMul(${a}, ${b})`;
  if (a.rank === 0 || b.rank === 0) throw new ShapeError(`${what()}: scalars are not allowed`);
  const sa = a.rank === 1 ? [1, a.shape[0]] : a.shape;
  const sb = b.rank === 1 ? [b.shape[0], 1] : b.shape;
  const k1 = sa[sa.length - 1];
  const k2 = sb[sb.length - 2];
  if (k1 !== k2) throw new ShapeError(`${what()}: inner dimensions differ (${k1} vs ${k2})`);
  const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2), what);
  const out: Dim[] = [...batch];
  if (a.rank > 1) out.push(sa[sa.length - 2]);
  if (b.rank > 1) out.push(sb[sb.length - 1]);
  return one(a.graph, 'MatMul', [a, b], a.dtype, out);
}

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/** alpha * op(A) op(B) + beta * C with 2-D A and B, C broadcast to the result. */
export function gemm(a: Value, b: Value, c?: Value, o: GemmOptions = {}): Value {
  same('Gemm', a, b);
  const what = () => `Gemm(${a}, ${b}${c ? `, ${c}` : ''})`;
  if (a.rank !== 2 || b.rank !== 2) throw new ShapeError(`${what()}: A and B must be 2-D`);
  const [m, k1] = o.transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k1 !== k2) throw new ShapeError(`${what()}: inner dimensions differ (${k1} vs ${k2})`);
  if (c) broadcastShapes([m, n], c.shape, what);
  const attrs: Record<string, Attr> = {
    alpha: attr.float(o.alpha ?? 1),
    beta: attr.float(o.beta ?? 1),
    transA: attr.int(o.transA ? 1 : 0),
    transB: attr.int(o.transB ? 1 : 0),
  };
  return one(a.graph, 'Gemm', c ? [a, b, c] : [a, b], a.dtype, [m, n], attrs);
}

/**
 * x [..., K] float32 times int8 weights [K, N] with one scale per column (symmetric: zero point 0),
 * plus an optional bias [N]: onnxruntime's contrib op, which quantizes x to uint8 on the fly (its own
 * scale and zero point per call) and accumulates in int32. The result is float32 [..., N].
 */
export function dynamicQuantizeMatMul(x: Value, b: Value, bScale: Value, bias?: Value): Value {
  const what = () => `DynamicQuantizeMatMul(${x}, ${b})`;
  if (x.dtype !== 'float32' || b.dtype !== 'int8' || bScale.dtype !== 'float32') {
    throw new TypeError(`${what()}: needs float32 x, int8 weights and float32 scales`);
  }
  if (b.rank !== 2 || x.rank < 2) throw new ShapeError(`${what()}: weights must be [K, N] and x at least 2-D`);
  const [k, n] = b.shape;
  const inner = x.shape[x.rank - 1];
  if (inner !== k) throw new ShapeError(`${what()}: inner dimensions differ (${inner} vs ${k})`);
  if (bScale.shape.join() !== String(n)) {
    throw new ShapeError(`${what()}: one scale per column expected, got ${formatShape(bScale.shape)}`);
  }
  if (bias && bias.shape.join() !== String(n)) {
    throw new ShapeError(`${what()}: bias must be [${n}], got ${formatShape(bias.shape)}`);
  }
  const inputs = bias ? [x, b, bScale, null, bias] : [x, b, bScale];
  const out = [{ dtype: 'float32' as const, shape: [...x.shape.slice(0, -1), n] }];
  return x.graph.addNode('DynamicQuantizeMatMul', inputs, out, {}, false, CONTRIB_DOMAIN)[0];
}

/** Standard ONNX: x float32 -> (uint8 x, its scale, its zero point), range over the whole tensor. */
export function dynamicQuantizeLinear(x: Value): { q: Value; scale: Value; zeroPoint: Value } {
  if (x.dtype !== 'float32') throw new TypeError(`DynamicQuantizeLinear(${x}): needs float32`);
  const [q, scale, zeroPoint] = x.graph.addNode(
    'DynamicQuantizeLinear',
    [x],
    [
      { dtype: 'uint8', shape: x.shape },
      { dtype: 'float32', shape: [] },
      { dtype: 'uint8', shape: [] },
    ],
    {},
    true,
  );
  return { q, scale, zeroPoint };
}

/** Standard ONNX: uint8 a [..., K] times int8 b [K, N] in int32, a's zero point subtracted (b's is 0). */
export function matMulInteger(a: Value, b: Value, aZeroPoint: Value): Value {
  const what = () => `MatMulInteger(${a}, ${b})`;
  if (a.dtype !== 'uint8' || b.dtype !== 'int8') throw new TypeError(`${what()}: needs uint8 a and int8 b`);
  if (b.rank !== 2 || a.shape[a.rank - 1] !== b.shape[0]) throw new ShapeError(`${what()}: inner dimensions differ`);
  const out = [{ dtype: 'int32' as const, shape: [...a.shape.slice(0, -1), b.shape[1]] }];
  return a.graph.addNode('MatMulInteger', [a, b, aZeroPoint], out, {}, true)[0];
}

// ---------------------------------------------------------------- normalisation, softmax

export function softmax(x: Value, axis = -1): Value {
  requireFloat('Softmax', x);
  normAxis(axis, x.rank, () => `Softmax(${x})`);
  return one(x.graph, 'Softmax', [x], x.dtype, x.shape, { axis: attr.int(axis) });
}

export function logSoftmax(x: Value, axis = -1): Value {
  requireFloat('LogSoftmax', x);
  normAxis(axis, x.rank, () => `LogSoftmax(${x})`);
  return one(x.graph, 'LogSoftmax', [x], x.dtype, x.shape, { axis: attr.int(axis) });
}

/**
 * LayerNormalization over the axes [axis, rank); scale and bias cover those axes.
 * float32 uses the fused ONNX op; onnxruntime has no float64 kernel for it, so float64 graphs
 * (used for exact gradient checks) get the same formula from primitive ops.
 */
export function layerNorm(
  x: Value,
  scale: Value,
  bias: Value | null,
  o: { axis?: number; epsilon?: number } = {},
): Value {
  requireFloat('LayerNormalization', x);
  const what = () => `LayerNormalization(${x}, ${scale}${bias ? `, ${bias}` : ''})`;
  const axis = normAxis(o.axis ?? -1, x.rank, what);
  const eps = o.epsilon ?? 1e-5;
  const normShape = x.shape.slice(axis);
  if (formatShape(scale.shape) !== formatShape(normShape))
    throw new ShapeError(`${what()}: scale must have shape ${formatShape(normShape)}, got ${formatShape(scale.shape)}`);
  if (bias && formatShape(bias.shape) !== formatShape(normShape))
    throw new ShapeError(`${what()}: bias must have shape ${formatShape(normShape)}, got ${formatShape(bias.shape)}`);
  if (x.dtype === 'float64') {
    const axes = normShape.map((_, i) => axis + i);
    const centered = sub(x, reduceMean(x, axes, true));
    const variance = reduceMean(mul(centered, centered), axes, true);
    const y = mul(div(centered, sqrt(add(variance, eps))), scale);
    return bias ? add(y, bias) : y;
  }
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  // Mean and InvStdDev are requested too: the gradient reuses them instead of recomputing.
  return x.graph.addNode(
    'LayerNormalization',
    bias ? [x, scale, bias] : [x, scale],
    [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: statShape },
      { dtype: x.dtype, shape: statShape },
    ],
    { axis: attr.int(axis), epsilon: attr.float(eps) },
  )[0];
}

// ---------------------------------------------------------------- reductions

function reducedShape(x: Value, axes: number[], keepdims: boolean): Dim[] {
  return keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

function reduce(
  op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax',
  x: Value,
  axes: number[] | undefined,
  keepdims: boolean,
): Value {
  const what = () => `${op}(${x})`;
  const ax = axes === undefined ? x.shape.map((_, i) => i) : axes.map((a) => normAxis(a, x.rank, what));
  const shape = reducedShape(x, ax, keepdims);
  const kd = attr.int(keepdims ? 1 : 0);
  // Opset 17: ReduceSum takes axes as an input, the other reductions as an attribute.
  if (op === 'ReduceSum') return one(x.graph, op, [x, x.graph.int64s(ax)], x.dtype, shape, { keepdims: kd });
  return one(x.graph, op, [x], x.dtype, shape, { axes: attr.ints(ax), keepdims: kd });
}

export const reduceSum = (x: Value, axes?: number[], keepdims = true) => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes?: number[], keepdims = true) => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Value, axes?: number[], keepdims = true) => reduce('ReduceMax', x, axes, keepdims);

// ---------------------------------------------------------------- shapes

/** The runtime shape of x as an int64 vector (for shapes with symbolic dims). */
export function shapeOf(x: Value): Value {
  return x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }], {}, true)[0];
}

/**
 * An int64 shape tensor for `dims`. Numbers become constants; a symbol is read at run time from
 * the first of `refs` that has it (products like 'b*s' multiply the factors).
 */
export function shapeTensor(g: Graph, dims: readonly Dim[], refs: readonly Value[]): Value {
  if (dims.every((d) => typeof d === 'number')) return g.int64s(dims as number[]);
  const parts: Value[] = dims.map((d) => {
    if (typeof d === 'number') return g.int64s([d]);
    for (const r of refs) {
      const i = r.shape.indexOf(d);
      if (i >= 0)
        return g.addNode(
          'Gather',
          [shapeOf(r), g.int64s([i])],
          [{ dtype: 'int64', shape: [1] }],
          { axis: attr.int(0) },
          true,
        )[0];
    }
    const factors = d.split('*');
    if (factors.length > 1) {
      let acc = shapeTensor(g, [/^\d+$/.test(factors[0]) ? Number(factors[0]) : factors[0]], refs);
      for (const f of factors.slice(1))
        acc = g.addNode(
          'Mul',
          [acc, shapeTensor(g, [/^\d+$/.test(f) ? Number(f) : f], refs)],
          [{ dtype: 'int64', shape: [1] }],
          {},
          true,
        )[0];
      return acc;
    }
    throw new ShapeError(`cannot find the size of symbolic dimension '${d}' in ${refs.map(String).join(', ')}`);
  });
  return parts.length === 1
    ? parts[0]
    : g.addNode('Concat', parts, [{ dtype: 'int64', shape: [dims.length] }], { axis: attr.int(0) }, true)[0];
}

/**
 * Reshape to `dims`. Entries: a size, a symbol of x's shape, or -1 (inferred, at most once).
 * Symbols at the same index as in x are emitted as 0 ("keep"), so one session serves all sizes;
 * other symbols are read at run time from x or `refs`.
 */
export function reshape(x: Value, dims: readonly Dim[], refs: readonly Value[] = []): Value {
  const what = () => `Reshape(${x} -> ${formatShape(dims)})`;
  const g = x.graph;
  const minus = dims.filter((d) => d === -1).length;
  if (minus > 1) throw new ShapeError(`${what()}: at most one -1`);
  let out: Dim[] = [...dims];
  if (minus === 1) {
    const known = dims.filter((d) => d !== -1);
    const inferred = divideDims(x.shape, known);
    if (inferred === undefined)
      throw new ShapeError(`${what()}: the size of x is not divisible by ${formatShape(known)}`);
    out = dims.map((d) => (d === -1 ? inferred : d));
  } else {
    const a = multiplyDims(x.shape);
    const b = multiplyDims(dims);
    if (String(a) !== String(b)) throw new ShapeError(`${what()}: element counts differ (${a} vs ${b})`);
  }
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  // Encode: 0 = copy input dim at this index, -1 = infer; otherwise a runtime shape tensor.
  let encoded: number[] | null = [];
  let usedMinus = false;
  for (let i = 0; i < out.length; i++) {
    const d = out[i];
    if (typeof d === 'number' && dims[i] !== -1) encoded.push(d);
    else if (typeof d === 'string' && x.shape[i] === d) encoded.push(0);
    else if (!usedMinus) {
      encoded.push(-1);
      usedMinus = true;
    } else {
      encoded = null;
      break;
    }
  }
  // onnxruntime cannot infer a -1 next to a copied dim that is 0 (an empty batch): compute the shape instead
  if (encoded && usedMinus && encoded.includes(0)) encoded = null;
  const shapeInput = encoded ? g.int64s(encoded) : shapeTensor(g, out, [x, ...refs]);
  return one(g, 'Reshape', [x, shapeInput], x.dtype, out);
}

export function transpose(x: Value, perm: number[]): Value {
  const what = () => `Transpose(${x}, perm=[${perm}])`;
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i))
    throw new ShapeError(`${what()}: perm must be a permutation of 0..${x.rank - 1}`);
  return one(
    x.graph,
    'Transpose',
    [x],
    x.dtype,
    perm.map((p) => x.shape[p]),
    { perm: attr.ints(perm) },
  );
}

/** Swaps the last two axes. */
export function transposeLast2(x: Value): Value {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 1], perm[x.rank - 2]] = [perm[x.rank - 2], perm[x.rank - 1]];
  return transpose(x, perm);
}

export function concat(xs: Value[], axis: number): Value {
  if (xs.length === 0) throw new Error('Concat: no inputs');
  const first = xs[0];
  const what = () => `Concat(${xs.map(String).join(', ')}, axis=${axis})`;
  const ax = normAxis(axis, first.rank, what);
  for (const x of xs) {
    same('Concat', first, x);
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i]))
      throw new ShapeError(`${what()}: shapes must agree except on axis ${ax}`);
  }
  const out = [...first.shape];
  out[ax] = multiplyDimsSum(xs.map((x) => x.shape[ax]));
  return one(first.graph, 'Concat', xs, first.dtype, out, { axis: attr.int(ax) });
}

function multiplyDimsSum(ds: Dim[]): Dim {
  if (ds.every((d) => typeof d === 'number')) return (ds as number[]).reduce((a, b) => a + b, 0);
  return ds.join('+'); // opaque symbol: a sum of sizes
}

export interface SliceSpec {
  axis: number;
  start: number;
  end: number;
  step?: number;
}

function sliceLength(dim: Dim, start: number, end: number, step: number): Dim {
  if (typeof dim !== 'number') {
    // Fully known only when start and end do not depend on dim.
    if (step === 1 && start >= 0 && end >= 0 && end < 2 ** 31 - 1) return Math.max(0, end - start);
    return `${dim}[${start}:${end}:${step}]`;
  }
  const clamp = (i: number, lo: number, hi: number) => Math.min(Math.max(i, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

/** ONNX Slice with constant starts/ends/steps (Python slicing semantics; use 2**31-1 for "to the end"). */
export function slice(x: Value, specs: SliceSpec[]): Value {
  const what = () => `Slice(${x})`;
  const out = [...x.shape];
  for (const s of specs) {
    const ax = normAxis(s.axis, x.rank, what);
    if ((s.step ?? 1) === 0) throw new ShapeError(`${what()}: step 0`);
    out[ax] = sliceLength(x.shape[ax], s.start, s.end, s.step ?? 1);
  }
  const g = x.graph;
  return one(
    g,
    'Slice',
    [
      x,
      g.int64s(specs.map((s) => s.start)),
      g.int64s(specs.map((s) => s.end)),
      g.int64s(specs.map((s) => normAxis(s.axis, x.rank, what))),
      g.int64s(specs.map((s) => s.step ?? 1)),
    ],
    x.dtype,
    out,
  );
}

export function split(x: Value, sizes: number[], axis: number): Value[] {
  const what = () => `Split(${x}, [${sizes}], axis=${axis})`;
  const ax = normAxis(axis, x.rank, what);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (typeof x.shape[ax] === 'number' && x.shape[ax] !== total)
    throw new ShapeError(`${what()}: sizes add up to ${total}, axis has ${x.shape[ax]}`);
  const specs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? s : d)) }));
  return x.graph.addNode('Split', [x, x.graph.int64s(sizes)], specs, { axis: attr.int(ax) });
}

export function gather(data: Value, indices: Value, axis = 0): Value {
  const what = () => `Gather(${data}, ${indices}, axis=${axis})`;
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32')
    throw new TypeError(`${what()}: indices must be int64 or int32`);
  const ax = normAxis(axis, data.rank, what);
  const out = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
  return one(data.graph, 'Gather', [data, indices], data.dtype, out, { axis: attr.int(ax) });
}

/** Broadcasts x to `dims` (symbols are read at run time from x or `refs`). */
export function expand(x: Value, dims: readonly Dim[], refs: readonly Value[] = []): Value {
  const shape = broadcastShapes(x.shape, dims, () => `Expand(${x} -> ${formatShape(dims)})`);
  return one(x.graph, 'Expand', [x, shapeTensor(x.graph, dims, [x, ...refs])], x.dtype, shape);
}

export function unsqueeze(x: Value, axes: number[]): Value {
  const rank = x.rank + axes.length;
  const ax = axes.map((a) => normAxis(a, rank, () => `Unsqueeze(${x}, [${axes}])`)).sort((a, b) => a - b);
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : x.shape[j++]);
  return one(x.graph, 'Unsqueeze', [x, x.graph.int64s(ax)], x.dtype, out);
}

export function squeeze(x: Value, axes: number[]): Value {
  const what = () => `Squeeze(${x}, [${axes}])`;
  const ax = axes.map((a) => normAxis(a, x.rank, what));
  for (const a of ax) if (x.shape[a] !== 1) throw new ShapeError(`${what()}: axis ${a} has size ${x.shape[a]}, not 1`);
  return one(
    x.graph,
    'Squeeze',
    [x, x.graph.int64s(ax)],
    x.dtype,
    x.shape.filter((_, i) => !ax.includes(i)),
  );
}

/** A tensor of `value` with the runtime shape given by an int64 shape vector. */
export function constantOfShape(shape: Value, dims: readonly Dim[], value: number, dtype: DType): Value {
  const g = shape.graph;
  // ConstantOfShape takes its fill value as a tensor attribute; a Mul by a scalar is simpler to emit.
  const zeros = g.addNode('ConstantOfShape', [shape], [{ dtype, shape: dims }], {}, true)[0];
  // ConstantOfShape defaults to float32 zeros; emit the right dtype with Cast when needed.
  const typed = dtype === 'float32' ? zeros : cast(zeros, dtype);
  return value === 0 ? typed : add(typed, g.scalar(value, dtype));
}

export function zerosLike(x: Value): Value {
  if (x.shape.every((d) => typeof d === 'number')) {
    return expand(x.graph.scalar(0, x.dtype), x.shape);
  }
  return constantOfShape(shapeOf(x), x.shape, 0, x.dtype);
}

/** Pads with zeros: `pads` = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] as an int64 vector. */
export function padZeros(x: Value, pads: Value, outShape: readonly Dim[]): Value {
  return one(x.graph, 'Pad', [x, pads], x.dtype, outShape, { mode: attr.string('constant') });
}

export interface DropoutResult {
  output: Value;
  /** Which elements were kept (bool), for the backward pass. */
  mask: Value;
}

/**
 * Inverted dropout. With `training` false it is the identity. The seed makes masks reproducible
 * across sessions; onnxruntime advances the generator on every run, so masks differ per step.
 */
export function dropout(x: Value, ratio: number, training: boolean, seed?: number): DropoutResult {
  requireFloat('Dropout', x);
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`Dropout: ratio must be in [0, 1), got ${ratio}`);
  const g = x.graph;
  const attrs: Record<string, Attr> = seed === undefined ? {} : { seed: attr.int(seed) };
  const [output, mask] = g.addNode(
    'Dropout',
    [x, g.scalar(ratio, x.dtype), g.scalar(training ? 1 : 0, 'bool')],
    [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'bool', shape: x.shape },
    ],
    attrs,
  );
  return { output, mask };
}

/**
 * An ONNX Constant node (the value lives in the node, not in the initializer list). Prefer
 * constant() for weights; this suits small values that graph rewrites should see as node outputs.
 */
export function constantNode(
  g: Graph,
  data: Float32Array | Float64Array | BigInt64Array | Int32Array,
  shape: number[],
): Value {
  const dtype = dtypeOfArray(data);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new ShapeError(`Constant: ${data.length} values for shape ${formatShape(shape)}`);
  return g.addNode('Constant', [], [{ dtype, shape }], { value: attr.tensor(dtype, shape, data) }, true)[0];
}

/** A frozen constant tensor (stored as an initializer). */
export function constant(
  g: Graph,
  data: Float32Array | Float64Array | BigInt64Array | Int32Array,
  shape: number[],
): Value {
  return g.initializer(data, shape, dtypeOfArray(data));
}

/** Scatter-adds `updates` into zeros shaped like `like` at rows `indices` (axis 0); the Gather gradient. */
export function scatterAddRows(like: Value, indices: Value, updates: Value): Value {
  const g = like.graph;
  const zeros = zerosLike(like);
  const idx = unsqueeze(cast(indices, 'int64'), [-1]);
  return one(g, 'ScatterND', [zeros, idx, updates], like.dtype, like.shape, { reduction: attr.string('add') });
}

/** The runtime size of one axis as an int64 scalar. */
export function dimSize(x: Value, axis: number): Value {
  const g = x.graph;
  const ax = normAxis(axis, x.rank, () => `dimSize(${x})`);
  return g.addNode(
    'Gather',
    [shapeOf(x), g.scalar(ax, 'int64')],
    [{ dtype: 'int64', shape: [] }],
    { axis: attr.int(0) },
    true,
  )[0];
}

/**
 * ONNX Range: start, start + delta, ... below limit (int64). `length` is the Dim to record for the
 * result (e.g. the symbolic sequence length it spans).
 */
export function range(g: Graph, start: Value | number, limit: Value | number, length: Dim, delta = 1): Value {
  const s = start instanceof Value ? start : g.scalar(start, 'int64');
  const l = limit instanceof Value ? limit : g.scalar(limit, 'int64');
  for (const v of [s, l])
    if (v.dtype !== 'int64' || v.rank !== 0)
      throw new TypeError(`Range: start and limit must be int64 scalars, got ${v}`);
  return g.addNode('Range', [s, l, g.scalar(delta, 'int64')], [{ dtype: 'int64', shape: [length] }], {}, true)[0];
}

/** ONNX GatherElements: out[i][j] = x[i][idx[i][j]] along `axis` (idx has x's rank). */
export function gatherElements(x: Value, indices: Value, axis: number): Value {
  const what = () => `GatherElements(${x}, ${indices}, axis=${axis})`;
  if (indices.dtype !== 'int64') throw new TypeError(`${what()}: indices must be int64`);
  if (indices.rank !== x.rank) throw new ShapeError(`${what()}: indices must have the rank of the data`);
  const ax = normAxis(axis, x.rank, what);
  return one(x.graph, 'GatherElements', [x, indices], x.dtype, indices.shape, { axis: attr.int(ax) });
}

/** Adds `updates` into zeros shaped like `like` at the GatherElements positions (its gradient). */
export function scatterElementsAdd(like: Value, indices: Value, updates: Value, axis: number): Value {
  return one(like.graph, 'ScatterElements', [zerosLike(like), indices, updates], like.dtype, like.shape, {
    axis: attr.int(axis),
    reduction: attr.string('add'),
  });
}
