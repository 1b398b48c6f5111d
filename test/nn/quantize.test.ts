// int8 Linear layers: the weight quantizer, the two graph forms against an independent reference of
// onnxruntime's dynamic quantization, the gradient rule, and what an int8 model's graph holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph, compile, float32, grad, op } from '../../src/engine/index.js';
import { Rng } from '../../src/engine/random.js';
import { markFrozenLinear } from '../../src/nn/frozen-linear.js';
import { linear } from '../../src/nn/layers.js';
import { parsePrecision } from '../../src/nn/precision.js';
import { INT8_WEIGHT_MAX, type QuantizedForm, quantizeLinearWeight } from '../../src/nn/quantize.js';

/** numpy / ONNX rounding: half to even. */
const roundEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** ONNX DynamicQuantizeLinear then integer product, written out from the operator's definition. */
function reference(
  x: Float32Array,
  rows: number,
  w: ReturnType<typeof quantizeLinearWeight>,
  bias: Float32Array,
): Float32Array {
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.max(0, Math.min(255, roundEven(-lo / scale)));
  const xq = Array.from(x, (v) => Math.max(0, Math.min(255, roundEven(v / scale) + zp)));
  const K = w.inFeatures;
  const N = w.outFeatures;
  const y = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (xq[r * K + k] - zp) * w.q[k * N + n];
      y[r * N + n] = acc * Math.fround(scale * w.scale[n]) + bias[n];
    }
  return y;
}

describe('int8 Linear', () => {
  it('quantizes each output channel symmetrically to [-63, 63], transposed to [in, out]', () => {
    assert.equal(INT8_WEIGHT_MAX, 63);
    const w = Float32Array.of(0.5, -1, 0.25, /* channel 1 */ 0, 0, 0, /* channel 2 */ 3, 1.5, -0.1);
    const q = quantizeLinearWeight(w, [3, 3]);
    assert.deepEqual(Array.from(q.scale), [Math.fround(1 / 63), 1, Math.fround(3 / 63)]);
    // column n of q is channel n: q[k * out + n]
    assert.deepEqual([q.q[0], q.q[3], q.q[6]], [32, -63, 16]);
    assert.deepEqual([q.q[1], q.q[4], q.q[7]], [0, 0, 0]);
    assert.deepEqual([q.q[2], q.q[5], q.q[8]], [63, 32, -2]);
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 3; i++)
        assert.ok(Math.abs(q.q[i * 3 + o] * q.scale[o] - w[o * 3 + i]) <= q.scale[o] / 2 + 1e-7);
    assert.throws(() => quantizeLinearWeight(w, [9]), /\[out, in\]/);
  });

  for (const form of ['contrib', 'standard'] as QuantizedForm[]) {
    it(`runs as ONNX defines dynamic quantization (${form} form)`, async () => {
      const rng = new Rng(3);
      const [rows, K, N] = [6, 24, 10];
      const wData = rng.normalArray(N * K, 0.3);
      const bData = rng.normalArray(N, 0.1);
      const xData = rng.normalArray(rows * K, 1);
      const g = new Graph('q');
      const x = g.input('x', 'float32', [rows, K], { trainable: false });
      const wv = g.initializer(wData, [N, K], 'float32', 'w');
      markFrozenLinear(wv, wData, [N, K], 'int8', form);
      g.output('y', linear(x, { weight: wv, bias: g.initializer(bData, [N], 'float32', 'b') }));
      assert.ok(!g.nodes.some((n) => n.opType === 'MatMul'), 'the float MatMul is not used');
      const y = float32((await compile(g, { optimization: 'disabled' }).then((s) => s.run({ x: xData }))).y);
      const want = reference(xData, rows, quantizeLinearWeight(wData, [N, K]), bData);
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(y[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `y[${i}] ${y[i]} vs ${want[i]}`);
    });
  }

  it('runs in onnxruntime-web (wasm) in both forms, as in onnxruntime-node', async () => {
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    const rng = new Rng(7);
    const wData = rng.normalArray(8 * 16, 0.3);
    const xData = rng.normalArray(4 * 16, 1);
    for (const form of ['contrib', 'standard'] as QuantizedForm[]) {
      const g = new Graph('q');
      const x = g.input('x', 'float32', [4, 16], { trainable: false });
      const wv = g.initializer(wData, [8, 16], 'float32', 'w');
      markFrozenLinear(wv, wData, [8, 16], 'int8', form);
      g.output('y', linear(x, { weight: wv }));
      const native = float32((await (await compile(g)).run({ x: xData })).y);
      const web = await ortWeb.InferenceSession.create(g.encode(), { executionProviders: ['wasm'] });
      const y = (await web.run({ x: new ortWeb.Tensor('float32', xData, [4, 16]) })).y.data as Float32Array;
      for (let i = 0; i < y.length; i++)
        assert.ok(Math.abs(y[i] - native[i]) < 1e-5, `${form}: y[${i}] ${y[i]} vs ${native[i]}`);
    }
  });

  it('passes the gradient to its input through the dequantized weights, none to the weights', async () => {
    const rng = new Rng(5);
    const [rows, K, N] = [4, 8, 6];
    const wData = rng.normalArray(N * K, 0.3);
    const rData = rng.normalArray(rows * N, 1);
    const g = new Graph('qgrad');
    const x = g.input('x', 'float32', [rows, K]);
    const wv = g.initializer(wData, [N, K], 'float32', 'w');
    markFrozenLinear(wv, wData, [N, K], 'int8', 'contrib');
    const loss = op.reduceSum(
      op.mul(linear(x, { weight: wv }), g.initializer(rData, [rows, N], 'float32', 'r')),
      [0, 1],
      false,
    );
    g.output('loss', loss);
    g.output('dx', grad(loss, [x])[0]);
    const dx = float32((await (await compile(g)).run({ x: rng.normalArray(rows * K, 1) })).dx);
    const q = quantizeLinearWeight(wData, [N, K]);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < K; k++) {
        let want = 0;
        for (let n = 0; n < N; n++) want += rData[r * N + n] * q.q[k * N + n] * q.scale[n];
        assert.ok(Math.abs(dx[r * K + k] - want) < 1e-5, `dx[${r}, ${k}] ${dx[r * K + k]} vs ${want}`);
      }
  });

  it('names the known precisions when given another', () => {
    assert.equal(parsePrecision('int8'), 'int8');
    assert.throws(() => parsePrecision('fp16'), /precision: unknown precision 'fp16' \(known: fp32, int8\)/);
  });
});
