// The results page's accuracy-against-N chart: ours in one panel, the paper's numbers for the same family and task
// in another, labelled as the paper's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agg, CellRecord } from '../../experiments/results-cells.js';
import { accuracyByNChart } from '../../experiments/results-charts.js';

const cell = (task: string, backbone_type: string) =>
  ({ backbone: 'mini', backbone_layers: 4, backbone_hidden: 256, task, backbone_type }) as CellRecord;
const agg = (variant: string, n: number, acc: number) => ({ variant, n, l: 1, acc, siso: 0.8 }) as Agg;
const main = [agg('revmux', 2, 0.79), agg('ora', 2, 0.78), agg('revmux', 4, 0.77)];
type Point = { source: string; variant: string; n: number; accuracy: number };
const points = (spec: ReturnType<typeof accuracyByNChart>) => (spec.data as { values: Point[] }).values;

describe('accuracy against N', () => {
  it("puts the paper's BERT-base numbers for the task beside ours, for the variants we ran", () => {
    const values = points(accuracyByNChart('t', cell('sst2', 'bert'), main));
    const paper = values.filter((v) => v.source === 'BERT-base (paper, GPU)');
    assert.deepEqual(
      paper.find((v) => v.variant === 'revmux' && v.n === 16),
      { source: 'BERT-base (paper, GPU)', variant: 'revmux', n: 16, accuracy: 85.5 },
    );
    assert.deepEqual(paper.find((v) => v.variant === 'SISO')?.accuracy, 92.2);
    assert.ok(!paper.some((v) => v.variant === 'vanilla'), 'only variants of our table');
    const ours = values.filter((v) => v.source.startsWith('ours: mini'));
    assert.deepEqual(
      ours.map((v) => [v.variant, v.n, v.accuracy]),
      [
        ['SISO', 1, 80],
        ['revmux', 2, 79],
        ['ora', 2, 78],
        ['revmux', 4, 77],
      ],
    );
  });

  it('has no paper panel for a task the paper does not report', () => {
    const values = points(accuracyByNChart('t', cell('synthetic', 'bert'), main));
    assert.ok(values.every((v) => v.source.startsWith('ours')));
  });
});
