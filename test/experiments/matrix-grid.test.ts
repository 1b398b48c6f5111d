// When a done cell still stands for the grid's recipe: the runner's stale check and the page's row check share it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cellKey, cellsOf, readGrid, recipeDiff } from '../../experiments/matrix-grid.js';

const recipe = { lr: 1e-3, patience: 3, max_length: 64 };
const ran = (max_epochs: number, epochs_trained?: number) => ({ ...recipe, max_epochs, epochs_trained });

describe('recipeDiff', () => {
  it('keeps an adapter run that patience stopped before both caps', () => {
    assert.deepEqual(recipeDiff(ran(8, 4.5), ran(16), 'revmux'), [], 'a raised cap it never reached');
    assert.deepEqual(recipeDiff(ran(16, 4.5), ran(8), 'ora'), [], 'a lowered cap above where it stopped');
    assert.deepEqual(recipeDiff(ran(16, 8), ran(8), 'ora'), [], 'stopped exactly where the lower cap ends');
    assert.deepEqual(recipeDiff(ran(8, 4.5), ran(16, 12), 'revmux'), [], 'seeds of one row, either cap');
  });
  it('counts the cap where it bound, and always for whole-model cells (their learning rate decays over it)', () => {
    assert.deepEqual(recipeDiff(ran(8, 8), ran(16), 'revmux'), ['max_epochs'], 'stopped by the cap');
    assert.deepEqual(recipeDiff(ran(16, 10), ran(8), 'revmux'), ['max_epochs'], 'the lower cap would cut it');
    assert.deepEqual(recipeDiff(ran(8, 8), ran(16, 12), 'vanilla'), ['max_epochs']);
    assert.deepEqual(recipeDiff(ran(8, 4.5), ran(16), 'datamux'), ['max_epochs']);
    assert.deepEqual(recipeDiff(ran(8, 4.5), ran(16), 'muxplm'), ['max_epochs']);
  });
  it('names every other setting that differs, and ignores one a recipe does not record', () => {
    assert.deepEqual(recipeDiff({ ...ran(8, 2), lr: 2e-3, patience: null }, ran(16), 'revmux'), ['lr', 'patience']);
    assert.deepEqual(recipeDiff({ ...ran(8, 2), max_length: undefined }, { ...ran(8), max_length: 128 }, 'ora'), []);
  });
});

describe('a group with its own learning rate', () => {
  const group = { backbone: 'b', tasks: ['sst2'], n: [8], l: [1], seeds: [1] };
  const gridWith = (groups: object[]) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-grid-')), 'grid.json');
    const train = { lr: 1e-3, max_epochs: 8, patience: 3, evals_per_epoch: 2 };
    fs.writeFileSync(file, JSON.stringify({ name: 'g', backbones: { b: { sst2: 'models/x' } }, train, groups }));
    return file;
  };
  it('makes cells of their own, keyed by the rate; the grid rate keeps the plain key', () => {
    const g = readGrid(
      gridWith([
        { ...group, name: 'default', variants: ['vanilla', 'ora'] },
        { ...group, name: 'low', variants: ['vanilla', 'ora'], lr: 1e-4 },
        { ...group, name: 'same', variants: ['vanilla'], lr: 1e-3 },
      ]),
    );
    assert.deepEqual(cellsOf(g).map(cellKey), [
      'b/sst2/vanilla-n8-l1-s1',
      'b/sst2/ora-n8-l1-s1',
      'b/sst2/vanilla-n8-l1-s1-lr0.0001',
      'b/sst2/ora-n8-l1-s1-lr0.0001',
    ]);
    assert.equal(cellsOf(g)[2].lr, 1e-4);
  });
  it('refuses a rate that is not a positive number, or one on whole-model cells', () => {
    assert.throws(
      () => readGrid(gridWith([{ ...group, name: 'low', variants: ['ora'], lr: -1 }])),
      /grid\.json: group low: "lr" must be a positive number, got -1/,
    );
    assert.throws(
      () => readGrid(gridWith([{ ...group, name: 'low', variants: ['datamux'], l: [0], lr: 1e-4 }])),
      /group low: "lr" is for adapter cells; datamux trains by whole_model\.lr/,
    );
  });
});
