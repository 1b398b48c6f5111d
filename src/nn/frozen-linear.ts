// Linear layers whose weight is a frozen initializer (inference graphs, and the frozen layers of adapter
// training) read a prepared copy of it instead of Transpose(W): stored already transposed, [in, out], in
// float32, or quantized to int8 (quantize.ts). Each copy is made once per host array, so every graph of a
// process (SISO, N = 2, 4, 8, each split l) holds the same arrays, which sessions built from files then
// share through one weights file (engine/runtime.ts); with Transpose(W) in the graph, onnxruntime folded a
// private transposed copy into every session.
import type { Value } from '../engine/graph.js';
import { ArrayCache } from '../engine/fingerprint.js';
import * as op from '../engine/ops.js';
import type { Precision } from './precision.js';
import { type QuantizedForm, int8Linear } from './quantize.js';

interface FrozenLinearWeight {
  data: Float32Array;
  shape: readonly number[];
  precision: Precision;
  form: QuantizedForm;
}

const marks = new WeakMap<Value, FrozenLinearWeight>();

/** Marks a frozen [out, in] initializer: a Linear that reads it uses a prepared copy (where weights are bound). */
export function markFrozenLinear(
  v: Value,
  data: Float32Array,
  shape: readonly number[],
  precision: Precision,
  form: QuantizedForm = 'contrib',
): void {
  if (shape.length === 2) marks.set(v, { data, shape, precision, form });
}

const transposed = new ArrayCache<Float32Array, Float32Array>();

/** [out, in] -> [in, out], once per host array. */
export function transposedWeight(data: Float32Array, shape: readonly number[]): Float32Array {
  return transposed.get(data, () => {
    const [out, inF] = shape;
    const t = new Float32Array(data.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) t[i * out + o] = data[o * inF + i];
    return t;
  });
}

/** y = x W^T + b from W's prepared copy when W was marked; null for a trainable or unmarked weight. */
export function frozenLinear(x: Value, weight: Value, bias?: Value | null): Value | null {
  const w = marks.get(weight);
  if (!w || x.dtype !== 'float32') return null;
  if (w.precision === 'int8') return int8Linear(x, { ...w, name: weight.name }, w.form, bias);
  const [out, inF] = w.shape;
  const data = transposedWeight(w.data, w.shape);
  const wt = x.graph.initializer(data, [inF, out], 'float32', { prefix: `${weight.name}.T` });
  const y = op.matmul(x, wt);
  return bias ? op.add(y, bias) : y;
}
