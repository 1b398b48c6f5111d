// int8 Linear layers for a frozen backbone (`--precision int8`): weights quantized once per output
// channel, symmetric (zero point 0), activations quantized per call by onnxruntime (dynamic
// quantization, as transformers.js's q8 models are). Attention, norms and adapters stay float32.
// Which Linear layers run this way is decided in frozen-linear.ts.
import type { Value } from '../engine/graph.js';
import { ArrayCache } from '../engine/fingerprint.js';
import * as op from '../engine/ops.js';

export type { Precision } from './precision.js';

/**
 * How a quantized Linear is written in the graph:
 * - contrib: one com.microsoft DynamicQuantizeMatMul node (differentiable here: training graphs need it);
 * - standard: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul, standard ONNX that any runtime
 *   reads; onnxruntime's CPU optimiser fuses it back into DynamicQuantizeMatMul.
 */
export type QuantizedForm = 'contrib' | 'standard';

/** Weights [K = in, N = out] as int8, one float32 scale per output channel. */
export interface Int8Weight {
  q: Int8Array;
  scale: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

/**
 * Largest weight level: 7 bits ([-63, 63]), onnxruntime's `reduce_range`. On x86 CPUs without VNNI
 * (AVX2, AVX-512F/BW) onnxruntime's uint8 x int8 kernel adds pairs of products in int16 with
 * saturation: 2 * 255 * 127 overflows it, 2 * 255 * 63 does not. Measured on this project's AVX2
 * machine: full-range weights gave Linear outputs off by up to 10x the quantization error
 * (test/nn/quantize.test.ts checks exactness against ONNX's definition).
 */
export const INT8_WEIGHT_MAX = 63;

/**
 * Symmetric per-output-channel quantization of a PyTorch-layout Linear weight [out, in], transposed
 * to [in, out] for MatMul: q = round(w / s) with s = max|w| / INT8_WEIGHT_MAX over the channel.
 */
export function quantizeLinearWeight(data: Float32Array, shape: readonly number[]): Int8Weight {
  if (shape.length !== 2) {
    throw new Error(`quantizeLinearWeight: expected a [out, in] weight, got [${shape.join(', ')}]`);
  }
  const [out, inF] = shape;
  const q = new Int8Array(out * inF);
  const scale = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let max = 0;
    for (let i = 0; i < inF; i++) max = Math.max(max, Math.abs(data[o * inF + i]));
    const s = max > 0 ? max / INT8_WEIGHT_MAX : 1; // an all-zero channel: any scale gives zeros
    scale[o] = s;
    for (let i = 0; i < inF; i++) q[i * out + o] = Math.round(data[o * inF + i] / s);
  }
  return { q, scale, inFeatures: inF, outFeatures: out };
}

/** Quantized once per host array, so every graph (prefill, N = 2, 4, 8...) reuses the same copy. */
const quantized = new ArrayCache<Float32Array, Int8Weight>();

function int8Of(data: Float32Array, shape: readonly number[]): Int8Weight {
  return quantized.get(data, () => quantizeLinearWeight(data, shape));
}

/** y = x W^T + b with W (host data [out, in], named `name`) quantized to int8, in the given graph form. */
export function int8Linear(
  x: Value,
  w: { data: Float32Array; shape: readonly number[]; name: string },
  form: QuantizedForm,
  bias?: Value | null,
): Value {
  const g = x.graph;
  const q = int8Of(w.data, w.shape);
  const b = g.initializer(q.q, [q.inFeatures, q.outFeatures], 'int8', { prefix: `${w.name}.int8` });
  const scale = g.initializer(q.scale, [q.outFeatures], 'float32', { prefix: `${w.name}.scale` });
  if (form === 'contrib') return op.dynamicQuantizeMatMul(x, b, scale, bias ?? undefined);
  const a = op.dynamicQuantizeLinear(x);
  const acc = op.cast(op.matMulInteger(a.q, b, a.zeroPoint), 'float32');
  // the pattern onnxruntime fuses: Mul(Cast(int32), a_scale * b_scale)
  const y = op.mul(acc, op.mul(a.scale, scale));
  return bias ? op.add(y, bias) : y;
}
