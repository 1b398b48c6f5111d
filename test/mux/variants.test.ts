import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adapterFlops } from '../../src/eval/flops.js';
import { adapterSize } from '../../src/mux/spec.js';
import { MUX_VARIANTS, VARIANTS } from '../../src/mux/variants.js';
import { sources } from '../helpers/sources.js';

describe('the variants table', () => {
  it('is the only place that tells the variants apart', () => {
    const pattern = new RegExp(`[!=]==\\s*'(${MUX_VARIANTS.join('|')})'|'(${MUX_VARIANTS.join('|')})'\\s*[!=]==`);
    const offenders = sources('src').filter(
      (f) => !f.endsWith(path.join('mux', 'variants.ts')) && pattern.test(fs.readFileSync(f, 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });

  it('gives the parameter counts of spec §7 at BERT-base width', () => {
    // d = 768, N = 2: the paper's adapter sizes follow from the shapes (spec §7)
    const d = 768;
    const lin = (o: number, i: number) => o * i + o;
    const dec = lin(3 * d, d) + lin(3 * d, 3 * d) + lin(2 * d, 3 * d);
    const rev = lin(d / 2, d) + 2 * (lin(d, d / 2) + lin(d / 2, d));
    assert.equal(adapterSize({ variant: 'ora', n: 2, l: 1, d, dropout: 0 }), rev + dec);
    assert.equal(
      adapterSize({ variant: 'revmux', n: 2, l: 1, d, dropout: 0 }),
      rev + lin(3 * d, d / 2) + lin(3 * d, 3 * d) + lin(d, 3 * d),
    );
    assert.equal(
      adapterSize({ variant: 'vanilla', n: 2, l: 1, d, dropout: 0 }),
      lin(d, d) + lin(3 * d, 2 * d) + lin(d, 3 * d) + dec,
    );
  });

  it('has, for every variant, shapes, FLOPs that grow with S, and the default λ of spec A7', () => {
    for (const v of MUX_VARIANTS) {
      const def = VARIANTS[v];
      assert.ok(def.shapes(64, 4).length > 0, v);
      const short = adapterFlops({ variant: v, n: 4, l: 1, d: 64, dropout: 0 }, 8);
      const long = adapterFlops({ variant: v, n: 4, l: 1, d: 64, dropout: 0 }, 16);
      assert.ok(long.mux > short.mux && long.demux === short.demux, v);
      assert.equal(def.lambda.labelWords, 0.5, v);
      assert.equal(def.lambda.classifier, v === 'vanilla' ? 0.5 : 0.25, v);
    }
  });
});
