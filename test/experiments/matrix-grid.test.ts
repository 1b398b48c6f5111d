// When a done cell still stands for the grid's recipe: the runner's stale check and the page's row check share it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recipeDiff } from '../../experiments/matrix-grid.js';

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
