// The demo without GLUE data: it says so, runs the synthetic task end to end, writes the summary
// and the plots, and a second run reuses the cached backbone and adapters; a given backbone is used as is.
// With SST-2 it freezes the committed classifier with its committed adapter, and trains nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runDemo } from '../../src/demo/demo.js';
import { sharedData } from '../helpers/shared-data.js';

describe('revmux demo', () => {
  it('falls back to the synthetic task, labelled, and produces summary and plots', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-demo-'));
    const lines: string[] = [];
    const s = await runDemo({
      cache: path.join(dir, 'cache'),
      out: path.join(dir, 'out'),
      data: path.join(dir, 'no-such-glue'),
      quick: true,
      log: (l) => lines.push(l),
    });
    assert.equal(s.task, 'synthetic');
    assert.ok(
      lines.some((l) => /SYNTHETIC task/.test(l)),
      'the fallback is announced',
    );
    const md = fs.readFileSync(path.join(dir, 'out', 'summary.md'), 'utf8');
    assert.match(md, /SYNTHETIC task \(no GLUE data found\)/);
    for (const f of ['summary.json', 'speedup.png', 'speedup.svg', 'accuracy-vs-speedup.png'])
      assert.ok(fs.existsSync(path.join(dir, 'out', f)), f);
    const acc = s.accuracy as { siso_accuracy: number; mean: number };
    assert.ok(acc.siso_accuracy > 0.7, `synthetic SISO accuracy ${acc.siso_accuracy}`);
    assert.ok(acc.mean > 0.6, `RevMUX N=2 accuracy ${acc.mean}`);
    const again: string[] = [];
    await runDemo({
      cache: path.join(dir, 'cache'),
      out: path.join(dir, 'out2'),
      data: path.join(dir, 'no-such-glue'),
      quick: true,
      log: (l) => again.push(l),
    });
    assert.ok(again.some((l) => /reusing .*backbone/.test(l)) && again.some((l) => /reusing .*revmux/.test(l)));
    // a given backbone folder is frozen as it is, and its adapters are cached apart from the default's
    const given = path.join(dir, 'cache', 'backbone-synthetic-L4-H128-quick');
    const third: string[] = [];
    const t = await runDemo({
      cache: path.join(dir, 'cache'),
      out: path.join(dir, 'out3'),
      data: path.join(dir, 'no-such-glue'),
      quick: true,
      backbone: given,
      log: (l) => third.push(l),
    });
    assert.ok(third.some((l) => l === `using ${given} as the frozen backbone`));
    assert.ok(!third.some((l) => /reusing .*revmux/.test(l)), 'adapters of another cache key');
    assert.equal((t.accuracy as { siso_accuracy: number }).siso_accuracy, acc.siso_accuracy, 'the same frozen weights');
    assert.match(fs.readFileSync(path.join(dir, 'out3', 'summary.md'), 'utf8'), new RegExp(`\`${given}\``));
  });

  it(
    'on SST-2 runs the committed classifier with its committed adapter, training nothing',
    { timeout: 300_000 },
    async (t) => {
      const glue = sharedData(t, 'glue');
      if (!glue) return;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-demo-sst2-'));
      const lines: string[] = [];
      const s = await runDemo({
        cache: path.join(dir, 'cache'),
        out: path.join(dir, 'out'),
        data: glue,
        quick: true,
        log: (l) => lines.push(l),
      });
      assert.equal(s.task, 'sst2');
      assert.ok(
        lines.some((l) => /^using .*models\/bert-mini-wiki8k-nb-sst2\/revmux-n2 \(--train-adapter/.test(l)),
        lines.join('\n'),
      );
      assert.deepEqual(fs.readdirSync(path.join(dir, 'cache')), [], 'nothing trained into the cache');
      const card = fs.readFileSync('models/bert-mini-wiki8k-nb-sst2/MODEL_CARD.md', 'utf8');
      const claim = Number(/\*\*([\d.]+) ± [\d.]+\*\* \(SISO/.exec(card)?.[1]);
      const mean = 100 * (s.accuracy as { mean: number }).mean;
      assert.ok(Math.abs(mean - claim) <= 0.1, `demo ${mean.toFixed(2)}, card ${claim}`);
    },
  );
});
