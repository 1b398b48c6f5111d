// Optimisers against hand-computed updates (the formulas of torch.optim), clipping, schedules,
// and an exact resume from saved state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AdamW, SGD, clipGlobalNorm, constantSchedule, linearWarmupDecay } from '../../src/engine/optim.js';
import { ParamSet } from '../../src/engine/params.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('optimisers', () => {
  it('AdamW: two steps match the hand-computed update', () => {
    const ps = new ParamSet();
    ps.add('w', [2], Float32Array.of(1, -2));
    const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    opt.step(ps, { w: Float32Array.of(0.5, -1) }, 0.01);
    // step 1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2 -> update = lr * g/|g| = 0.01 * sign(g)
    // decay first: p * (1 - lr * wd) = p * 0.999
    close(ps.get('w').data[0], 1 * 0.999 - 0.01, 1e-6);
    close(ps.get('w').data[1], -2 * 0.999 + 0.01, 1e-6);
    const p1 = Array.from(ps.get('w').data);
    opt.step(ps, { w: Float32Array.of(-0.5, 1) }, 0.01);
    // step 2 for w[0]: m = 0.9*0.05 + 0.1*(-0.5) = -0.005; v = 0.999*0.00025 + 0.001*0.25 = 0.00049975
    const m = -0.005;
    const v = 0.00049975;
    const mhat = m / (1 - 0.9 ** 2);
    const vhat = v / (1 - 0.999 ** 2);
    close(ps.get('w').data[0], p1[0] * 0.999 - (0.01 * mhat) / (Math.sqrt(vhat) + 1e-8), 1e-6);
    assert.equal(opt.steps, 2);
  });

  it("AdamW with scaleByRms: each tensor's step times its RMS before the step, at least 1e-3 (AdamWScale)", () => {
    const ps = new ParamSet();
    ps.add('big', [2], Float32Array.of(3, -4)); // RMS sqrt(12.5)
    ps.add('tiny', [1], Float32Array.of(1e-5)); // RMS below the floor
    const opt = new AdamW({ weightDecay: 0.1, scaleByRms: true });
    opt.step(ps, { big: Float32Array.of(0.5, 0.5), tiny: Float32Array.of(-2) }, 0.01);
    // step 1: the Adam direction is sign(g); decay uses the plain rate
    close(ps.get('big').data[0], 3 * 0.999 - 0.01 * Math.sqrt(12.5), 1e-6);
    close(ps.get('big').data[1], -4 * 0.999 - 0.01 * Math.sqrt(12.5), 1e-6);
    close(ps.get('tiny').data[0], 1e-5 * 0.999 + 0.01 * 1e-3, 1e-9);
  });

  it('AdamW: noDecay parameters are not decayed, missing gradients leave a parameter alone', () => {
    const ps = new ParamSet();
    ps.add('bias', [1], Float32Array.of(3));
    ps.add('frozen', [1], Float32Array.of(5));
    new AdamW({ weightDecay: 0.5, noDecay: (n) => n === 'bias' }).step(ps, { bias: Float32Array.of(0) }, 0.1);
    assert.equal(ps.get('bias').data[0], 3);
    assert.equal(ps.get('frozen').data[0], 5);
  });

  it('SGD with momentum and weight decay (torch semantics)', () => {
    const ps = new ParamSet();
    ps.add('w', [1], Float32Array.of(1));
    const opt = new SGD({ momentum: 0.9, weightDecay: 0.1 });
    opt.step(ps, { w: Float32Array.of(2) }, 0.1); // d = 2 + 0.1 = 2.1, buf = 2.1, w = 1 - 0.21 = 0.79
    close(ps.get('w').data[0], 0.79);
    opt.step(ps, { w: Float32Array.of(2) }, 0.1); // d = 2 + 0.079 = 2.079, buf = 0.9*2.1 + 2.079 = 3.969
    close(ps.get('w').data[0], 0.79 - 0.3969, 1e-6);
  });

  it('clips to a global norm and reports the norm before clipping', () => {
    const a = Float32Array.of(3, 0);
    const b = Float32Array.of(0, 4);
    const n = clipGlobalNorm([a, b], 1);
    close(n, 5);
    close(Math.hypot(a[0], b[1]), 1, 1e-5);
    const c = Float32Array.of(0.1);
    clipGlobalNorm([c], 1);
    close(c[0], 0.1);
  });

  it('schedules: constant and linear warm-up then decay', () => {
    assert.equal(constantSchedule(0.3)(1000), 0.3);
    const s = linearWarmupDecay(1, 10, 110);
    assert.deepEqual([s(0), s(5), s(10), s(60), s(110), s(200)], [0, 0.5, 1, 0.5, 0, 0]);
  });

  it('saving parameters and AdamW state, then resuming, continues exactly', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-opt-'));
    const make = () => {
      const ps = new ParamSet();
      ps.add('a.weight', [3], Float32Array.of(0.1, -0.2, 0.3));
      ps.add('b', [1], Float32Array.of(2));
      return ps;
    };
    const gradAt = (k: number) => ({
      'a.weight': Float32Array.of(Math.sin(k), Math.cos(k), k / 10),
      b: Float32Array.of(-k),
    });
    const straight = make();
    const o1 = new AdamW();
    for (let k = 0; k < 6; k++) o1.step(straight, gradAt(k), 0.05);

    const first = make();
    const o2 = new AdamW();
    for (let k = 0; k < 3; k++) o2.step(first, gradAt(k), 0.05);
    first.save(path.join(dir, 'params.safetensors'));
    o2.save(path.join(dir, 'optim.safetensors'));

    const resumed = make();
    resumed.load(path.join(dir, 'params.safetensors'));
    const o3 = new AdamW();
    o3.load(path.join(dir, 'optim.safetensors'), resumed);
    for (let k = 3; k < 6; k++) o3.step(resumed, gradAt(k), 0.05);
    assert.deepEqual(Array.from(resumed.get('a.weight').data), Array.from(straight.get('a.weight').data));
    assert.deepEqual(Array.from(resumed.get('b').data), Array.from(straight.get('b').data));
    assert.equal(o3.steps, 6);
  });

  it('loading parameters with a wrong shape or name says which', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-opt-'));
    const a = new ParamSet();
    a.add('w', [2], Float32Array.of(1, 2));
    a.save(path.join(dir, 'p.safetensors'));
    const b = new ParamSet();
    b.add('w', [3], new Float32Array(3));
    assert.throws(() => b.load(path.join(dir, 'p.safetensors')), /'w' has shape \[2\], expected \[3\]/);
    const c = new ParamSet();
    c.add('v', [2], new Float32Array(2));
    assert.throws(() => c.load(path.join(dir, 'p.safetensors')), /missing: v; unexpected: w/);
  });
});
