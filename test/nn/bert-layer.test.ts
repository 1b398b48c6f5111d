// Composite gradient check: one BERT-style encoder layer, gradient w.r.t. its input and every weight.
import { describe, it } from 'node:test';
import type { Value } from '../../src/engine/index.js';
import { type Activation, bertLayer, bertLayerShapes, bertLayerWeights, paddingMaskBias } from '../../src/nn/layers.js';
import { type GradCheckOptions, gradCheck } from '../engine/gradcheck.js';

const B = 2;
const S = 3;
const H = 4;
const FFN = 8;
const shapes = bertLayerShapes(H, FFN);

async function check(act: Activation, opts: GradCheckOptions) {
  await gradCheck(
    (x: Value, ...ws: Value[]) => {
      const byName = new Map(shapes.map(([n], i) => [n, ws[i]]));
      // the second sequence has one padded position
      const mask = x.graph.initializer(BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 0n), [B, S], 'int64');
      const bias = paddingMaskBias(mask, x.dtype as 'float32' | 'float64');
      return bertLayer(
        x,
        bias,
        bertLayerWeights((n) => byName.get(n)!),
        { heads: 2, act, eps: 1e-5 },
      );
    },
    [
      { shape: [B, S, H] },
      ...shapes.map(([n, shape]) => ({
        shape,
        lo: n.endsWith('LayerNorm.weight') ? 0.5 : -0.5,
        hi: n.endsWith('LayerNorm.weight') ? 1.5 : 0.5,
      })),
    ],
    opts,
  );
}

describe('BERT layer gradient (input and all 16 weight tensors)', () => {
  it('float64, tanh-GELU, decomposed LayerNorm', async () => {
    await check('gelu_new', { dtype: 'float64', atol: 1e-7, rtol: 1e-5 });
  });
  it('float32, erf-GELU, fused LayerNormalization', async () => {
    await check('gelu', { dtype: 'float32', eps: 1e-2, atol: 5e-3, rtol: 5e-2 });
  });
});
