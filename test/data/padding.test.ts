import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { padRows } from '../../src/data/padding.js';

describe('padRows', () => {
  it('right-pads with the pad id, masks padding, keeps segment ids', () => {
    const b = padRows([{ ids: [5, 6, 7], typeIds: [0, 1, 1] }, { ids: [8] }], 1);
    assert.equal(b.seq, 3);
    assert.deepEqual([...b.inputIds], [5n, 6n, 7n, 8n, 1n, 1n]);
    assert.deepEqual([...b.attentionMask], [1n, 1n, 1n, 1n, 0n, 0n]);
    assert.deepEqual([...b.tokenTypeIds], [0n, 1n, 1n, 0n, 0n, 0n]);
  });

  it('adds all-padding rows (empty multiplexing slots) and honours a minimum length', () => {
    const b = padRows([{ ids: [3] }], 0, { rows: 2, minLength: 4 });
    assert.equal(b.rows, 2);
    assert.equal(b.seq, 4);
    assert.deepEqual([...b.attentionMask], [1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
    assert.equal(padRows([], 0).seq, 1, 'an empty batch still has a length');
  });

  it('refuses more items than rows', () => {
    assert.throws(() => padRows([{ ids: [1] }, { ids: [2] }], 0, { rows: 1 }), /2 items do not fit in 1 rows/);
  });
});
