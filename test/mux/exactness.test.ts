// Spec §13 T1: with the backbone's middle replaced by identity and dropout off, the reverse
// demultiplexer recovers every instance from the mixed row, slot k <-> instance k, for every order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph, type Value, compile, float32, op, toNumbers } from '../../src/engine/index.js';
import { Rng } from '../../src/engine/random.js';
import { layoutBlocks, reverseDemux, reversibleMux, splitBlocks } from '../../src/mux/layers.js';
import { type MuxSpec, adapterShapes, initAdapter } from '../../src/mux/spec.js';

const D = 48; // divisible by every N tested (2, 3, 4, 8, 16)
const S = 5;
const G = 3;
const noDrop = (x: Value) => x;

async function roundTrip(n: number, dtype: 'float32' | 'float64', order: number[], seed: number) {
  const spec: MuxSpec = { variant: 'revmux', n, l: 0, d: D, dropout: 0.1 };
  const params = initAdapter(spec, seed);
  const g = new Graph('identity-backbone');
  const pv = new Map(
    adapterShapes(spec)
      .filter(([name]) => name.startsWith('coupling'))
      .map(([name, shape]) => [name, g.input(name, dtype, shape)]),
  );
  const p = (name: string) => pv.get(name)!;
  const a = g.input('a', dtype, [G, n, S, D / n]);
  const slots = n === 1 ? [op.squeeze(a, [1])] : op.split(a, new Array(n).fill(1), 1).map((s) => op.squeeze(s, [1]));
  const mixed = layoutBlocks(reversibleMux(p, slots, noDrop)); // [G, S, D]: what the frozen layers would see
  const back = reverseDemux(p, splitBlocks(mixed, n), noDrop);
  g.output('mixed', mixed);
  g.output(
    'back',
    op.concat(
      back.map((s) => op.unsqueeze(s, [1])),
      1,
    ),
  );
  const rng = new Rng(seed + 1);
  // instances, then placed in slots according to `order` (a pairing permutation)
  const instances = Array.from({ length: G * n }, () => Array.from({ length: S * (D / n) }, () => rng.normal()));
  const flat = order.flatMap((i) => instances[i]);
  const feeds: Record<string, { data: Float32Array | Float64Array; shape: number[] }> = {
    a: { data: dtype === 'float64' ? Float64Array.from(flat) : Float32Array.from(flat), shape: [G, n, S, D / n] },
  };
  for (const [name, t] of pv) {
    const src = params.get(name).data;
    feeds[name] = { data: dtype === 'float64' ? Float64Array.from(src) : src, shape: [...t.shape] as number[] };
  }
  const r = await (await compile(g)).run(feeds);
  const got = toNumbers(r.back);
  let worst = 0;
  for (let i = 0; i < flat.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - (dtype === 'float32' ? Math.fround(flat[i]) : flat[i])));
  // the mixed row must actually mix: it differs from the plain concatenation of the inputs
  const mixedOut = toNumbers(r.mixed);
  const mixes = n === 1 || mixedOut.some((v, i) => Math.abs(v - flat[i]) > 1e-3);
  return { worst, mixes };
}

describe('reversible multiplexer exactness (identity backbone, dropout off)', () => {
  for (const n of [2, 3, 4, 8, 16]) {
    it(`N = ${n}: demux(mux(a)) = a, slot k <-> instance k, for several pairing orders`, async () => {
      const rng = new Rng(n);
      const orders = [
        [...Array(G * n).keys()],
        [...Array(G * n).keys()].reverse(),
        rng.shuffle([...Array(G * n).keys()]),
      ];
      for (const order of orders) {
        const f32 = await roundTrip(n, 'float32', order, 10 + n);
        assert.ok(f32.worst < 1e-5, `float32 N=${n}: max |demux(mux(a)) - a| = ${f32.worst}`);
        assert.ok(f32.mixes, 'the mixed row differs from the raw slots');
        const f64 = await roundTrip(n, 'float64', order, 10 + n);
        assert.ok(f64.worst < 1e-12, `float64 N=${n}: ${f64.worst}`);
      }
    });
  }
  it('N = 1 is the identity', async () => {
    const r = await roundTrip(1, 'float32', [0, 1, 2], 3);
    assert.equal(r.worst, 0);
  });
  it('the demux with different adapters does not invert (the test can fail)', async () => {
    const spec: MuxSpec = { variant: 'revmux', n: 2, l: 0, d: 8, dropout: 0 };
    const p1 = initAdapter(spec, 1);
    const p2 = initAdapter(spec, 2);
    const g = new Graph();
    const mk = (ps: typeof p1, prefix: string) => {
      const m = new Map(
        adapterShapes(spec)
          .filter(([n]) => n.startsWith('coupling'))
          .map(([n, s]) => [n, g.initializer(ps.get(n).data, s, 'float32', `${prefix}${n}`)]),
      );
      return (n: string) => m.get(n)!;
    };
    const a = [g.input('a0', 'float32', [4]), g.input('a1', 'float32', [4])];
    const back = reverseDemux(
      mk(p2, 'q.'),
      splitBlocks(layoutBlocks(reversibleMux(mk(p1, 'p.'), a, noDrop)), 2),
      noDrop,
    );
    g.output('b0', back[0]);
    const r = await (await compile(g)).run({ a0: Float32Array.of(1, 2, 3, 4), a1: Float32Array.of(-1, 0.5, 2, 1) });
    assert.ok(Math.max(...Array.from(float32(r.b0), (v, i) => Math.abs(v - [1, 2, 3, 4][i]))) > 1e-3);
  });
});
