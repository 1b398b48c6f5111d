// A row of the results page averages seeds: only seeds trained by one recipe may share it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CellRecord,
  aggregate,
  bestLearningRate,
  mainPrefill,
  prefillVerdict,
} from '../../experiments/results-cells.js';

const evaluation = (mean: number) => ({
  mean,
  std: 0.01,
  siso_accuracy: 0.8,
  pairing_sensitivity: 0.1,
  agreement_with_siso: 0.9,
  slot_accuracy: [mean, mean],
});
const seed = (s: number, mean: number, patience: number | null): CellRecord => ({
  cell: `g/sst2/datamux-n2-l0-s${s}`,
  grid: 'g',
  backbone: 'g',
  backbone_sha256: 'ab',
  backbone_layers: 4,
  backbone_hidden: 256,
  task: 'sst2',
  variant: 'datamux',
  n: 2,
  l: 0,
  seed: s,
  lr: 1e-4,
  max_epochs: patience ? 8 : 1,
  patience,
  max_length: 64,
  epochs_trained: 1,
  best_epoch: 1,
  train_seconds: 10,
  evaluation: evaluation(mean),
});

describe('results rows', () => {
  it('average the seeds of one recipe', () => {
    const a = aggregate([seed(1, 0.7, 3), seed(2, 0.8, 3)]);
    assert.equal(a.seeds, 2);
    assert.ok(Math.abs(a.acc - 0.75) < 1e-12);
    // the earliest cells record no max length: not a difference
    assert.equal(aggregate([seed(1, 0.7, 3), { ...seed(2, 0.8, 3), max_length: undefined }]).seeds, 2);
  });
  it('refuse seeds that started from different MUX-PLM pretraining', () => {
    const muxplm = (s: number, start: string): CellRecord => ({
      ...seed(s, 0.7, 3),
      cell: `g/sst2/muxplm-n2-l0-s${s}`,
      variant: 'muxplm',
      start_model_sha256: start,
    });
    assert.equal(aggregate([muxplm(1, 'a'.repeat(64)), muxplm(2, 'a'.repeat(64))]).seeds, 2);
    assert.throws(
      () => aggregate([muxplm(1, 'a'.repeat(64)), muxplm(2, 'b'.repeat(64))]),
      /muxplm-n2-l0-s1 and g\/sst2\/muxplm-n2-l0-s2 started from different weights \(start_model_sha256 a{12} and b/,
    );
  });
  it('refuse seeds trained by different recipes, naming both cells', () => {
    assert.throws(
      () => aggregate([seed(1, 0.7, 3), seed(2, 0.8, null)]),
      new RegExp(
        'g/sst2/datamux-n2-l0-s1 and g/sst2/datamux-n2-l0-s2 trained by different recipes ' +
          '\\(max_epochs 8 and 1, patience 3 and null\\)',
      ),
    );
  });
  it("take a table's l from where most adapter cells ran, not from its rows", () => {
    const at = (variant: string, n: number, l: number, s: number): CellRecord => ({
      ...seed(s, 0.7, 3),
      cell: `g/sst2/${variant}-n${n}-l${l}-s${s}`,
      variant,
      n,
      l,
    });
    // T5's grid: RevMUX N = 2 at l = 1 over three seeds, the sweep's l = 0, 2, 3 once each, and whole-model cells
    // at l = 0: by rows every l ties at one (and the sweep's l = 0 comes first); by cells l = 1 leads
    const t5 = [0, 2, 3].map((l) => at('revmux', 2, l, 1)).concat([1, 2, 3].map((s) => at('revmux', 2, 1, s)));
    const whole = [1, 2, 3, 4].map((s) => at('datamux', 2, 0, s));
    assert.equal(mainPrefill([...t5, ...whole]), 1);
    assert.equal(mainPrefill(whole), 0, 'a table of whole-model cells only');
  });
});

describe('rows at several learning rates', () => {
  it('let the most accurate stand for the method, and list each set tried', () => {
    const row = (variant: string, n: number, lr: number, mean: number) =>
      aggregate([{ ...seed(1, mean, 3), variant, n, l: 1, lr, cell: `g/sst2/${variant}-n${n}-l1-s1-lr${lr}` }]);
    const rows = [row('vanilla', 8, 1e-3, 0.53), row('vanilla', 8, 1e-4, 0.74), row('ora', 8, 1e-3, 0.73)];
    const { best, tried } = bestLearningRate(rows);
    assert.deepEqual(
      best.map((a) => [a.variant, a.lr]),
      [
        ['vanilla', 1e-4],
        ['ora', 1e-3],
      ],
    );
    assert.deepEqual(
      tried.map((set) => set.map((a) => a.lr)),
      [[1e-4, 1e-3]],
      'only sets with a choice, best first',
    );
  });
});

describe('the prefill sweep verdict', () => {
  // one seed per l, each with a pairing spread of 1 point
  const sweep = (...accs: number[]) =>
    accs.map((acc, l) => ({ ...aggregate([{ ...seed(1, acc, 3), variant: 'revmux', l }]), pairingSd: 0.01 }));
  it('holds when no step drops beyond the spread and the most prefilled gains beyond it', () => {
    assert.equal(prefillVerdict(sweep(0.54, 0.75, 0.776, 0.787)), 'holds');
    assert.equal(prefillVerdict(sweep(0.7776, 0.7943, 0.7913, 0.796)), 'holds', 'a dip within the spread');
  });
  it('is within the spread when the sweep is flat, and does not hold after a drop beyond it', () => {
    assert.equal(prefillVerdict(sweep(0.7908, 0.785, 0.7857)), 'within the spread');
    assert.equal(prefillVerdict(sweep(0.75, 0.73, 0.8)), 'does not hold');
  });
});
