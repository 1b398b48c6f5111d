// One graph computes loss and gradients; AdamW updates the parameters; the loss falls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph, compile, float32, grad, op } from '../../src/engine/index.js';
import { AdamW } from '../../src/engine/optim.js';
import { ParamSet } from '../../src/engine/params.js';
import { Rng } from '../../src/engine/random.js';
import { linear } from '../../src/nn/layers.js';

describe('training with the engine', () => {
  it('a 2-layer MLP with an embedding table learns a toy classification', async () => {
    const rng = new Rng(1);
    const V = 6;
    const E = 8;
    const ps = new ParamSet();
    ps.add('embed', [V, E], rng.normalArray(V * E, 0.5));
    ps.add('fc1.weight', [16, E], rng.normalArray(16 * E, 0.3));
    ps.add('fc1.bias', [16], new Float32Array(16));
    ps.add('fc2.weight', [2, 16], rng.normalArray(32, 0.3));
    ps.add('fc2.bias', [2], new Float32Array(2));

    const g = new Graph('mlp');
    const p = ps.declare(g);
    const ids = g.input('ids', 'int64', ['batch']);
    const labels = g.input('labels', 'int64', ['batch']);
    const hcur = op.relu(
      linear(op.gather(p.get('embed')!, ids), { weight: p.get('fc1.weight')!, bias: p.get('fc1.bias')! }),
    );
    const logits = linear(hcur, { weight: p.get('fc2.weight')!, bias: p.get('fc2.bias')! });
    // cross-entropy = -mean(logsoftmax[label]) via a one-hot mask
    const onehot = op.cast(op.equal(op.unsqueeze(labels, [1]), g.int64s([0, 1])), 'float32');
    const loss = op.neg(op.reduceMean(op.reduceSum(op.mul(op.logSoftmax(logits, -1), onehot), [1], false), [0], false));
    const grads = grad(loss, [...p.values()]);
    g.output('loss', loss);
    [...p.keys()].forEach((n, i) => g.output(`grad.${n}`, grads[i]));
    const session = await compile(g);

    // label = token id is even; ids 0..5 each seen twice per batch
    const idsData = BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i % V));
    const labelData = BigInt64Array.from(idsData, (x) => (x % 2n === 0n ? 1n : 0n));
    const opt = new AdamW({ weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const r = await session.run({
        ...ps.feeds(),
        ids: { data: idsData, shape: [12] },
        labels: { data: labelData, shape: [12] },
      });
      losses.push(float32(r.loss)[0]);
      opt.step(ps, Object.fromEntries(ps.names().map((n) => [n, float32(r[`grad.${n}`])])), 0.05);
    }
    assert.ok(losses[0] > 0.5, `initial loss ${losses[0]}`);
    assert.ok(losses[59] < 0.05, `final loss ${losses[59]} (from ${losses[0]})`);
  });
});
