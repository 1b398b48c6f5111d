// Every differentiable op's gradient against central finite differences, in float64 wherever
// onnxruntime's CPU kernels support it (Erf and Dropout only have float32 kernels).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type Value, compile, float32, grad, op } from '../../src/engine/index.js';
import { gradCheck } from './gradcheck.js';

describe('gradients (float64 finite differences)', () => {
  it('Add, Sub, Mul, Div with broadcasting', async () => {
    await gradCheck((a, b) => op.add(a, b), [{ shape: [2, 3] }, { shape: [3] }]);
    await gradCheck((a, b) => op.sub(a, b), [{ shape: [2, 1] }, { shape: [2, 3] }]);
    await gradCheck((a, b) => op.mul(a, b), [{ shape: [2, 3, 2] }, { shape: [3, 1] }]);
    await gradCheck((a, b) => op.div(a, b), [{ shape: [2, 3] }, { shape: [1, 3], lo: 0.5, hi: 2 }]);
  });
  it('Pow in base and exponent', async () => {
    await gradCheck(
      (a, b) => op.pow(a, b),
      [
        { shape: [2, 3], lo: 0.5, hi: 2 },
        { shape: [3], lo: 0.5, hi: 3 },
      ],
    );
    await gradCheck((a) => op.pow(a, 2), [{ shape: [4] }]);
  });
  it('Min, Max', async () => {
    await gradCheck((a, b) => op.max(a, b), [{ shape: [2, 3] }, { shape: [3] }]);
    await gradCheck((a, b) => op.min(a, b), [{ shape: [2, 3] }, { shape: [2, 3] }]);
  });
  it('Neg, Abs, Sqrt, Reciprocal, Exp, Log', async () => {
    await gradCheck((a) => op.neg(a), [{ shape: [5] }]);
    await gradCheck((a) => op.abs(a), [{ shape: [5], data: [-2, -0.5, 0.3, 1, 2] }]);
    await gradCheck((a) => op.sqrt(a), [{ shape: [5], lo: 0.2, hi: 3 }]);
    await gradCheck((a) => op.reciprocal(a), [{ shape: [5], lo: 0.5, hi: 3 }]);
    await gradCheck((a) => op.exp(a), [{ shape: [5] }]);
    await gradCheck((a) => op.log(a), [{ shape: [5], lo: 0.2, hi: 3 }]);
  });
  it('Tanh, Sigmoid, Relu, Sin, Cos', async () => {
    await gradCheck((a) => op.tanh(a), [{ shape: [2, 3] }]);
    await gradCheck((a) => op.sigmoid(a), [{ shape: [2, 3] }]);
    await gradCheck((a) => op.relu(a), [{ shape: [6], data: [-1, -0.2, 0.1, 0.7, 2, -3] }]);
    await gradCheck((a) => op.sin(a), [{ shape: [4] }]);
    await gradCheck((a) => op.cos(a), [{ shape: [4] }]);
  });
  it('Erf (float32: no float64 kernel)', async () => {
    await gradCheck((a) => op.erf(a), [{ shape: [2, 3] }], { dtype: 'float32' });
  });
  it('MatMul, batched and broadcast', async () => {
    await gradCheck((a, b) => op.matmul(a, b), [{ shape: [3, 4] }, { shape: [4, 2] }]);
    await gradCheck((a, b) => op.matmul(a, b), [{ shape: [2, 3, 4] }, { shape: [4, 2] }]);
    await gradCheck((a, b) => op.matmul(a, b), [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }]);
  });
  it('Gemm with transposes, alpha, beta and a broadcast bias', async () => {
    await gradCheck(
      (a, b, c) => op.gemm(a, b, c, { transA: true, transB: true, alpha: 0.7, beta: 1.3 }),
      [{ shape: [4, 3] }, { shape: [2, 4] }, { shape: [2] }],
    );
    await gradCheck((a, b, c) => op.gemm(a, b, c), [{ shape: [3, 4] }, { shape: [4, 2] }, { shape: [3, 2] }]);
  });
  it('Softmax, LogSoftmax on inner and outer axes', async () => {
    await gradCheck((a) => op.softmax(a, -1), [{ shape: [2, 4] }]);
    await gradCheck((a) => op.softmax(a, 1), [{ shape: [2, 3, 2] }]);
    await gradCheck((a) => op.logSoftmax(a, -1), [{ shape: [2, 4] }]);
  });
  it('LayerNormalization w.r.t. input, scale and bias (fused op, float32)', async () => {
    const f32 = { dtype: 'float32' as const, eps: 1e-2, atol: 3e-3, rtol: 3e-2 };
    await gradCheck(
      (x, s, b) => op.layerNorm(x, s, b, { epsilon: 1e-5 }),
      [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }],
      f32,
    );
    await gradCheck(
      (x, s, b) => op.layerNorm(x, s, b, { axis: 1 }),
      [{ shape: [2, 2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }],
      f32,
    );
  });
  it('LayerNormalization decomposed for float64', async () => {
    await gradCheck(
      (x, s, b) => op.layerNorm(x, s, b, { epsilon: 1e-5 }),
      [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }],
    );
  });
  it('ReduceSum, ReduceMean, ReduceMax with and without keepdims', async () => {
    await gradCheck((a) => op.reduceSum(a, [1], true), [{ shape: [2, 3, 2] }]);
    await gradCheck((a) => op.reduceSum(a, [0, 2], false), [{ shape: [2, 3, 2] }]);
    await gradCheck((a) => op.reduceMean(a, [-1], true), [{ shape: [2, 3] }]);
    await gradCheck((a) => op.reduceMean(a, [0], false), [{ shape: [2, 3] }]);
    await gradCheck((a) => op.reduceMax(a, [1], false), [{ shape: [2, 4] }]);
  });
  it('Reshape, Transpose, Unsqueeze, Squeeze, Expand, Identity', async () => {
    await gradCheck((a) => op.reshape(a, [3, -1]), [{ shape: [2, 3, 2] }]);
    await gradCheck((a) => op.transpose(a, [2, 0, 1]), [{ shape: [2, 3, 2] }]);
    await gradCheck((a) => op.squeeze(op.unsqueeze(a, [0, 2]), [0]), [{ shape: [2, 3] }]);
    await gradCheck((a) => op.expand(a, [2, 3, 4]), [{ shape: [3, 1] }]);
    await gradCheck((a) => op.identity(a), [{ shape: [3] }]);
  });
  it('Concat, Slice, Split', async () => {
    await gradCheck((a, b) => op.concat([a, b], 1), [{ shape: [2, 2] }, { shape: [2, 3] }]);
    await gradCheck(
      (a) =>
        op.slice(a, [
          { axis: 1, start: 1, end: 3 },
          { axis: 0, start: -1, end: 2 ** 31 - 1 },
        ]),
      [{ shape: [2, 4] }],
    );
    const [p, q] = [0, 1];
    await gradCheck((a) => op.split(a, [1, 3], -1)[q], [{ shape: [2, 4] }]);
    await gradCheck(
      (a) => {
        const parts = op.split(a, [2, 1, 1], 0);
        return op.mul(parts[p], parts[p]);
      },
      [{ shape: [4, 2] }],
    );
  });
  it('Gather into a table (embedding gradient, repeated ids accumulate)', async () => {
    await gradCheck((table) => op.gather(table, table.graph.int64s([2, 0, 2, 1, 2]), 0), [{ shape: [4, 3] }]);
    await gradCheck(
      (table) => {
        const ids = table.graph.initializer(BigInt64Array.of(1n, 1n, 0n, 3n), [2, 2], 'int64');
        return op.gather(table, ids, 0);
      },
      [{ shape: [4, 2] }],
    );
  });
  it('GatherElements (repeated indices accumulate)', async () => {
    await gradCheck(
      (x) => op.gatherElements(x, x.graph.initializer(BigInt64Array.of(2n, 0n, 1n, 1n, 1n, 0n), [3, 2], 'int64'), 1),
      [{ shape: [3, 4] }],
    );
  });
  it('Where, Cast, and comparisons as constants', async () => {
    await gradCheck((a, b) => op.where(op.greater(a, b), a, b), [{ shape: [2, 3] }, { shape: [3] }]);
    await gradCheck((a) => op.cast(op.cast(a, 'float32'), 'float64'), [{ shape: [3] }], {
      eps: 1e-3,
      atol: 1e-5,
      rtol: 1e-4,
    });
  });
  it('Dropout in training mode: gradient uses the same mask as the output', async () => {
    // onnxruntime draws a new mask on every run, so finite differences do not apply; instead check
    // that within one run dx = mask / (1 - p) where y = x * mask / (1 - p).
    const g = new Graph('dropout');
    const x = g.input('x', 'float32', [64]);
    const { output, mask } = op.dropout(x, 0.25, true, 99);
    const [dx] = grad(op.reduceSum(output, undefined, false), [x]);
    g.output('y', output);
    g.output('mask', op.cast(mask, 'float32'));
    g.output('dx', dx);
    const xs = Float32Array.from({ length: 64 }, (_, i) => 1 + i);
    const r = await (await compile(g)).run({ x: xs });
    let kept = 0;
    for (let i = 0; i < 64; i++) {
      const m = float32(r.mask)[i];
      kept += m;
      assert.ok(Math.abs(float32(r.dx)[i] - m / 0.75) < 1e-6, `dx[${i}]`);
      assert.ok(Math.abs(float32(r.y)[i] - (xs[i] * m) / 0.75) < 1e-4, `y[${i}]`);
    }
    assert.ok(kept > 30 && kept < 64, `kept ${kept} of 64 with p = 0.25`);
  });
  it('Dropout in inference mode is the identity with gradient 1', async () => {
    await gradCheck((a) => op.dropout(a, 0.5, false).output, [{ shape: [5] }]);
  });
  it('stopGradient blocks the gradient', async () => {
    await gradCheck((a, b) => op.mul(a, op.stopGradient(b)), [{ shape: [3] }, { shape: [3], frozen: true }]);
  });
  it('a value used twice accumulates both paths', async () => {
    await gradCheck((a: Value) => op.mul(op.tanh(a), op.exp(a)), [{ shape: [2, 2] }]);
  });
});
