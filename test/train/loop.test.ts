// The shared training loop on a one-parameter objective: it steps, checkpoints every `evalEvery`
// steps, keeps the best, stops early after `patience` checkpoints without improvement (also when the
// count straddles a resume), and an interrupted run resumes to the same parameters as a straight one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import * as op from '../../src/engine/ops.js';
import { AdamW } from '../../src/engine/optim.js';
import { ParamSet } from '../../src/engine/params.js';
import { float32 } from '../../src/engine/runtime.js';
import { CheckpointDir, startOrResume } from '../../src/train/checkpoint.js';
import { type TrainingRun, runLoop } from '../../src/train/loop.js';

/** loss = mean((w - x)^2) over a batch of targets x; the dev "metric" is scripted per checkpoint. */
function setup(dir: string, metrics: number[], o: Partial<TrainingRun<number[]>> = {}) {
  const params = new ParamSet();
  params.add('w', [1], new Float32Array([0]));
  const optimizer = new AdamW({ weightDecay: 0 });
  const ckpt = new CheckpointDir(dir);
  const state = startOrResume(
    ckpt,
    params,
    optimizer,
    { step: 0, epoch: 0, batchInEpoch: 0, best: null, history: [], meta: {} },
    { log: () => {} },
  );
  const saved: number[] = [];
  const run: TrainingRun<number[]> = {
    label: 'test',
    params,
    optimizer,
    ckpt,
    state,
    seed: 1,
    epochs: 3,
    totalSteps: 12,
    batches: (epoch, resumeAt) =>
      [
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]
        .map((b) => b.map((x) => x + epoch))
        .slice(resumeAt),
    trainGraph() {
      const g = new Graph('quadratic');
      const p = params.declare(g);
      const x = g.input('x', 'float32', ['batch']);
      const d = op.sub(x, p.get('w')!);
      const loss = op.reduceMean(op.mul(d, d), undefined, false);
      g.output('loss', loss);
      params.outputGradients(loss, p);
      return g;
    },
    feeds: (b) => ({ x: { data: Float32Array.from(b), shape: [b.length] } }),
    report: (r, b) => ({ loss: float32(r.loss)[0], examples: b.length }),
    lr: () => 0.1,
    maxGradNorm: 0,
    evalEvery: 2,
    keep: 'best',
    evaluate: async (t) => {
      const metric = metrics[state.history.length];
      return { metric, row: { train_loss: t.loss, metric }, line: `metric ${metric}` };
    },
    save: (_m, step) => saved.push(step),
    log: () => {},
    quiet: true,
    ...o,
  };
  return { run, params, state, saved };
}

describe('runLoop', () => {
  it('checkpoints every evalEvery steps and keeps the best', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-loop-'));
    const { run, state, saved } = setup(dir, [0.1, 0.3, 0.2, 0.4, 0.4, 0.35]);
    const r = await runLoop(run);
    assert.equal(r.aborted, false);
    assert.equal(state.step, 12);
    assert.deepEqual(
      state.history.map((h) => h.step),
      [2, 4, 6, 8, 10, 12],
    );
    assert.deepEqual(saved, [2, 4, 8], 'saved at each new best only (a tie is not better)');
    assert.deepEqual(state.best, { metric: 0.4, step: 8 });
  });

  it('stops after `patience` checkpoints without improvement', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-loop-'));
    const { run, state } = setup(dir, [0.5, 0.6, 0.55, 0.58, 0.59, 0.7], { patience: 3 });
    await runLoop(run);
    assert.equal(state.step, 10, 'three checkpoints after the best at step 4');
  });

  it("counts patience across a resume, and resumes to the straight run's parameters", async () => {
    const metrics = [0.5, 0.6, 0.55, 0.58, 0.59, 0.7];
    const straight = setup(fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-loop-')), metrics, { patience: 3 });
    await runLoop(straight.run);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-loop-'));
    const first = setup(dir, metrics, { patience: 3, abortAfterSteps: 8 });
    assert.equal((await runLoop(first.run)).aborted, true);
    const second = setup(dir, metrics, { patience: 3 });
    assert.equal(second.state.step, 8);
    await runLoop(second.run);
    assert.equal(second.state.step, 10);
    assert.deepEqual([...second.params.get('w').data], [...straight.params.get('w').data]);
  });

  it("adds a resumed run's loop time to what the state already holds", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-loop-'));
    const first = setup(dir, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], { abortAfterSteps: 4 });
    await runLoop(first.run);
    assert.ok(first.state.loopSeconds! > 0, 'kept at each checkpoint');
    // as if the first part had taken an hour: the resumed run must carry it, not restart its count
    new CheckpointDir(dir).save(first.params, first.run.optimizer, { ...first.state, loopSeconds: 3600 });
    const t0 = Date.now();
    const second = setup(dir, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    await runLoop(second.run);
    const own = (Date.now() - t0) / 1000;
    assert.ok(
      second.state.loopSeconds! > 3600 && second.state.loopSeconds! <= 3600 + own,
      `${second.state.loopSeconds}`,
    );
  });
});
