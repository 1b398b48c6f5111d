// The throughput benchmark's result schema on a tiny model (speed itself is never asserted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureThroughput } from '../../src/eval/throughput.js';
import { randomModel } from '../../src/models/random-presets.js';

describe('revmux bench measurement', () => {
  it('returns one row per (variant, N, l) with timings, speedup and both bounds', async () => {
    const model = randomModel('bert-tiny');
    const r = await measureThroughput(model, {
      variants: ['revmux', 'vanilla'],
      ns: [1, 2],
      ls: [1],
      batch: 4,
      seq: [5, 9, 12],
      rounds: 2,
      warmup: 0,
      seed: 1,
    });
    assert.deepEqual(
      r.rows.map((x) => `${x.variant}:${x.n}:${x.l}`),
      ['revmux:1:1', 'revmux:2:1', 'vanilla:2:1'],
    );
    for (const row of r.rows) {
      for (const k of [
        'siso_ms_median',
        'mux_ms_median',
        'siso_ms_p95',
        'mux_ms_p95',
        'siso_examples_per_s',
        'mux_examples_per_s',
        'speedup',
        'bound_backbone',
        'bound_flops',
        'fraction_of_bound',
        'rss_mb_after',
      ] as const) {
        assert.equal(typeof row[k], 'number', k);
        assert.ok(Number.isFinite(row[k]) && row[k] > 0, `${k} = ${row[k]}`);
      }
      // speedup comes from the unrounded medians; the reported medians are rounded to 0.01 ms
      const ratio = row.siso_ms_median / row.mux_ms_median;
      const rounding = ratio * (0.005 / row.siso_ms_median + 0.005 / row.mux_ms_median);
      assert.ok(Math.abs(row.speedup - ratio) <= rounding + 0.001, `speedup ${row.speedup} vs ${ratio}`);
    }
    assert.equal(r.rows[1].bound_backbone, 1.333); // L = 2, l = 1, N = 2: 2 / (1 + 1/2)
    assert.ok(r.seqUsed <= 12 && r.peakRssMb > 0);
  });
  it('times the whole-model baselines once per N, at l = 0, whatever the adapters are timed at', async () => {
    const model = randomModel('bert-tiny');
    const r = await measureThroughput(model, {
      variants: ['revmux', 'datamux', 'muxplm'],
      ns: [1, 2, 4],
      ls: [1, 0],
      batch: 4,
      seq: 9,
      rounds: 1,
      warmup: 0,
      seed: 1,
    });
    assert.deepEqual(
      r.rows.map((x) => `${x.variant}:${x.n}:${x.l}`),
      ['revmux:1:1', 'revmux:2:1', 'datamux:2:0', 'muxplm:2:0', 'revmux:4:1', 'datamux:4:0', 'muxplm:4:0'].concat([
        'revmux:1:0',
        'revmux:2:0',
        'revmux:4:0',
      ]),
    );
    const row = (v: string, n: number) => r.rows.find((x) => x.variant === v && x.n === n)!;
    assert.equal(row('muxplm', 4).bound_backbone, 4);
    // FLOPs bound: DataMUX runs 4 more tokens (its index prefix) and has no pooler, MUX-PLM neither
    assert.ok(row('datamux', 4).bound_flops < row('muxplm', 4).bound_flops, JSON.stringify(r.rows));
    assert.ok(row('muxplm', 2).bound_flops > 1.5 && row('muxplm', 2).bound_flops < 2.5);
    for (const x of r.rows) assert.ok(x.speedup > 0 && Number.isFinite(x.speedup));
    await assert.rejects(
      measureThroughput(randomModel('llama-tiny'), {
        ...{ variants: ['datamux'], ns: [2], ls: [1] },
        batch: 2,
        seq: 4,
        rounds: 1,
        warmup: 0,
        seed: 1,
      }),
      /datamux is implemented on BERT encoders; this model is llama/,
    );
  });
});
