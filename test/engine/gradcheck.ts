// Central finite differences against the autodiff gradient of a built graph.
import assert from 'node:assert/strict';
import { Graph, type Value, compile, grad, op } from '../../src/engine/index.js';
import { Rng } from '../../src/engine/random.js';

export interface GradInput {
  shape: number[];
  /** Explicit values; default uniform in [lo, hi). */
  data?: number[];
  lo?: number;
  hi?: number;
  /** No gradient check for this input (e.g. it is only read as a constant). */
  frozen?: boolean;
}

export interface GradCheckOptions {
  dtype?: 'float64' | 'float32';
  eps?: number;
  /** Allowed |analytic - numeric| <= atol + rtol * |numeric|. */
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Builds f(inputs), reduces it to loss = sum(f * R) with a fixed random R, and compares d loss/d input
 * from grad() with central differences of the same onnxruntime session.
 */
export async function gradCheck(
  build: (...xs: Value[]) => Value,
  inputs: GradInput[],
  o: GradCheckOptions = {},
): Promise<void> {
  const dtype = o.dtype ?? 'float64';
  const eps = o.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const atol = o.atol ?? (dtype === 'float64' ? 1e-7 : 2e-3);
  const rtol = o.rtol ?? (dtype === 'float64' ? 1e-6 : 2e-2);
  const rng = new Rng(o.seed ?? 7);
  const make = (xs: number[]): Float32Array | Float64Array =>
    dtype === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs);

  const g = new Graph('gradcheck');
  const xs = inputs.map((inp, i) => g.input(`x${i}`, dtype, inp.shape));
  const y = build(...xs);
  const shape = y.shape.map((d) => {
    if (typeof d !== 'number') throw new Error('gradCheck needs static output shapes');
    return d;
  });
  const n = shape.reduce((a, b) => a * b, 1);
  const r = g.initializer(make(Array.from({ length: n }, () => rng.next() * 2 - 1)), shape, dtype);
  const loss = op.reduceSum(op.mul(y, r), undefined, false);
  const checked = xs.filter((_, i) => !inputs[i].frozen);
  const grads = grad(loss, checked);
  g.output('loss', loss);
  grads.forEach((d, i) => g.output(`d${i}`, d));
  const session = await compile(g, { threads: 1 });

  const values = inputs.map((inp) => {
    const m = inp.shape.reduce((a, b) => a * b, 1);
    return make(
      inp.data ?? Array.from({ length: m }, () => (inp.lo ?? -1) + ((inp.hi ?? 1) - (inp.lo ?? -1)) * rng.next()),
    );
  });
  const feeds = () => Object.fromEntries(values.map((v, i) => [`x${i}`, { data: v, shape: inputs[i].shape }]));
  const analytic = await session.run(feeds());
  const lossAt = async () => Number((await session.run(feeds(), ['loss'])).loss.data[0]);

  let k = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i].frozen) continue;
    const a = analytic[`d${k++}`];
    assert.deepEqual(a.shape, inputs[i].shape, `gradient shape of input ${i}`);
    const v = values[i];
    for (let j = 0; j < v.length; j++) {
      const keep = v[j];
      v[j] = keep + eps;
      const up = await lossAt();
      v[j] = keep - eps;
      const down = await lossAt();
      v[j] = keep;
      const numeric = (up - down) / (2 * eps);
      const got = Number(a.data[j]);
      const tol = atol + rtol * Math.abs(numeric);
      assert.ok(
        Math.abs(got - numeric) <= tol,
        `input ${i} element ${j}: autodiff ${got} vs finite difference ${numeric} (tolerance ${tol.toExponential(2)})`,
      );
    }
  }
}
