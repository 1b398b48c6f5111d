// The whole multiplexed training graph: adapters -> frozen layers [l, L) -> demux -> head, with
// CE + lambda * InfoNCE: its adapter gradients match finite differences. The mapping loss is
// checked on its own below: its stop-gradient makes autodiff differ from the value's derivative
// on purpose.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { compile, float32 } from '../../src/engine/runtime.js';
import { Rng } from '../../src/engine/random.js';
import type { EncodedExample } from '../../src/data/batching.js';
import { loadModel } from '../../src/models/load.js';
import { assembleGroups, computeFeatures, sisoAccuracy } from '../../src/mux/features.js';
import { muxGraph } from '../../src/mux/graphs.js';
import { type MuxVariant, initAdapter } from '../../src/mux/spec.js';
import { sharedData } from '../helpers/shared-data.js';

export function randomExamples(count: number, vocab: number, seed: number, minLen = 3, maxLen = 9): EncodedExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const len = minLen + rng.int(maxLen - minLen + 1);
    const ids = [101, ...Array.from({ length: len - 2 }, () => 1000 + rng.int(vocab - 1000)), 102];
    return { ids, typeIds: new Array(len).fill(0), label: rng.int(2) };
  });
}

for (const variant of ['revmux', 'ora', 'vanilla'] as MuxVariant[]) {
  describe(`${variant} training graph on bert-tiny`, () => {
    it('adapter gradients match directional finite differences', async (t) => {
      const dir = sharedData(t, 'reference/bert-tiny');
      if (!dir) return;
      const model = loadModel(path.join(dir));
      const head = model.taskHead({ labelIds: null });
      const spec = { variant, n: 2, l: 1, d: 32, dropout: 0.1 };
      const examples = randomExamples(7, 30522, 1); // 7 instances: the last group has a dummy slot
      const f = await computeFeatures(model, head, spec.l, examples, 0, { quiet: true });
      assert.ok(sisoAccuracy(f) >= 0);
      const params = initAdapter(spec, 3);
      const g = muxGraph(model, head, spec, params, {
        withLoss: true,
        adapterDropout: false,
        backboneDropout: false,
        seed: 1,
        lambda: 0.5,
        mu: 0,
      });
      const session = await compile(g);
      const feeds = assembleGroups(f, [...examples.keys()], spec.n, { training: true });
      const run = async () => session.run({ ...params.feeds(), ...feeds });
      const base = await run();
      const loss = () => run().then((r) => float32(r.loss)[0]);
      assert.ok(float32(base.nce)[0] > 0 && float32(base.ce)[0] > 0);

      const rng = new Rng(5);
      const eps = 1e-2;
      for (let trial = 0; trial < 3; trial++) {
        // a random unit direction v over every adapter parameter
        const dirs = new Map(params.list().map((p) => [p.name, Float32Array.from(p.data, () => rng.normal())]));
        const norm = Math.sqrt([...dirs.values()].reduce((a, v) => a + v.reduce((s, x) => s + x * x, 0), 0));
        for (const v of dirs.values()) for (let i = 0; i < v.length; i++) v[i] /= norm;
        let predicted = 0;
        for (const p of params.list()) {
          const gr = float32(base[`grad.${p.name}`]);
          const v = dirs.get(p.name)!;
          for (let i = 0; i < v.length; i++) predicted += gr[i] * v[i];
        }
        const shift = (s: number) => {
          for (const p of params.list()) {
            const v = dirs.get(p.name)!;
            for (let i = 0; i < v.length; i++) p.data[i] += s * eps * v[i];
          }
        };
        shift(1);
        const up = await loss();
        shift(-2);
        const down = await loss();
        shift(1);
        const numeric = (up - down) / (2 * eps);
        assert.ok(
          Math.abs(numeric - predicted) <= 0.02 * Math.abs(numeric) + 1e-3,
          `${variant} trial ${trial}: directional derivative ${numeric} vs autodiff ${predicted}`,
        );
      }
    });
  });
}

describe('mapping loss', () => {
  it('is the mean |cos| over ordered slot pairs; its gradient is half the symmetric one (stop-gradient)', async () => {
    const { Graph, grad, compile: comp } = await import('../../src/engine/index.js');
    const { mappingLoss } = await import('../../src/mux/losses.js');
    const G = 2,
      N = 3,
      S = 4,
      W = 5;
    const g = new Graph();
    const z = g.input('z', 'float32', [G, N, S, W]);
    const mask = g.initializer(new Float32Array(G * N * S).fill(1), [G, N, S], 'float32');
    const loss = mappingLoss(z, mask);
    g.output('loss', loss);
    g.output('dz', grad(loss, [z])[0]);
    const s = await comp(g);
    const rng = new Rng(2);
    const zData = Float32Array.from({ length: G * N * S * W }, () => rng.normal());
    const r = await s.run({ z: zData });
    // value by hand
    const at = (gg: number, n: number, t: number) =>
      zData.subarray(((gg * N + n) * S + t) * W, ((gg * N + n) * S + t + 1) * W);
    let total = 0;
    for (let gg = 0; gg < G; gg++)
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          if (i === j) continue;
          let acc = 0;
          for (let t = 0; t < S; t++) {
            const a = at(gg, i, t),
              b = at(gg, j, t);
            const dot = a.reduce((x, v, k) => x + v * b[k], 0);
            acc += Math.abs(dot) / Math.hypot(...a) / Math.hypot(...b);
          }
          total += acc / S / (N * (N - 1));
        }
    assert.ok(Math.abs(float32(r.loss)[0] - total / G) < 1e-5, `loss ${float32(r.loss)[0]} vs ${total / G}`);
    // derivative of the value = 2 x the stop-gradient gradient (each pair term counted from both sides)
    const dz = float32(r.dz);
    for (const k of [0, 7, 33, 101]) {
      const keep = zData[k];
      zData[k] = keep + 1e-2;
      const up = float32((await s.run({ z: zData })).loss)[0];
      zData[k] = keep - 1e-2;
      const down = float32((await s.run({ z: zData })).loss)[0];
      zData[k] = keep;
      const numeric = (up - down) / 2e-2;
      assert.ok(Math.abs(numeric - 2 * dz[k]) < 2e-3, `element ${k}: numeric ${numeric} vs 2 x autodiff ${2 * dz[k]}`);
    }
  });
});

describe('fused inference graphs', () => {
  it('ids -> logits in one session equals prefill + cached features + mux graph', async (t) => {
    const dir = sharedData(t, 'reference/bert-tiny');
    if (!dir) return;
    const { fusedMuxGraph, fusedSisoGraph } = await import('../../src/mux/graphs.js');
    const model = loadModel(dir);
    const head = model.taskHead({ labelIds: null });
    const examples = randomExamples(5, 30522, 11);
    for (const variant of ['revmux', 'vanilla'] as MuxVariant[]) {
      const spec = { variant, n: 2, l: 1, d: 32, dropout: 0.1 };
      const params = initAdapter(spec, 7);
      const f = await computeFeatures(model, head, spec.l, examples, 0, { quiet: true });
      const cached = float32(
        (
          await (
            await compile(
              muxGraph(model, head, spec, params, {
                withLoss: false,
                adapterDropout: false,
                backboneDropout: false,
                seed: 0,
                lambda: 0,
                mu: 0,
              }),
            )
          ).run({ ...params.feeds(), ...assembleGroups(f, [0, 1, 2, 3, 4], 2) })
        ).logits,
      );
      // the same 5 instances as ids [G = 3, N = 2, S] (the sixth slot is an all-padding dummy)
      const S = Math.max(...examples.map((e) => e.ids.length));
      const ids = new BigInt64Array(6 * S);
      const mask = new BigInt64Array(6 * S);
      examples.forEach((e, i) => e.ids.forEach((tok, j) => ((ids[i * S + j] = BigInt(tok)), (mask[i * S + j] = 1n))));
      const shape = [3, 2, S];
      const fused = float32(
        (
          await (
            await compile(fusedMuxGraph(model, head, spec, params))
          ).run({
            input_ids: { data: ids, shape },
            attention_mask: { data: mask, shape },
            token_type_ids: { data: new BigInt64Array(6 * S), shape },
          })
        ).logits,
      );
      for (let i = 0; i < 10; i++)
        assert.ok(
          Math.abs(fused[i] - cached[i]) < 1e-5,
          `${variant} logit ${i}: fused ${fused[i]} vs cached ${cached[i]}`,
        );
      const siso = float32(
        (
          await (
            await compile(fusedSisoGraph(model, head))
          ).run({
            input_ids: { data: ids, shape: [6, S] },
            attention_mask: { data: mask, shape: [6, S] },
            token_type_ids: { data: new BigInt64Array(6 * S), shape: [6, S] },
          })
        ).logits,
      );
      for (let i = 0; i < 10; i++) assert.ok(Math.abs(siso[i] - f.sisoLogits[i]) < 1e-5, `SISO logit ${i}`);
    }
  });
});

describe('the serving graph', () => {
  // the server's one session: SISO and every N over one copy of the frozen weights, the idle parts fed empty batches
  for (const family of ['bert', 'llama'] as const) {
    it(`${family}: each part equals its own session, and the frozen weights are stored once`, async () => {
      const { parseConfig } = await import('../../src/models/config.js');
      const { createModel } = await import('../../src/models/init.js');
      const { fusedMuxGraph, fusedServingGraph, fusedSisoGraph, partName, servingFeeds } = await import(
        '../../src/mux/graphs.js'
      );
      const { tokenFeeds } = await import('../../src/mux/features.js');
      const common = { vocab_size: 120, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3 };
      const config =
        family === 'bert'
          ? parseConfig({ model_type: 'bert', ...common, num_attention_heads: 2, id2label: { 0: 'no', 1: 'yes' } })
          : parseConfig({ model_type: 'llama', ...common, num_attention_heads: 4, num_key_value_heads: 2 });
      const model = createModel(config, { seed: 3 });
      const head = model.taskHead({ labelIds: family === 'bert' ? null : [7, 9] });
      const adapters = [2, 4].map((n) => {
        const spec = { variant: 'revmux' as MuxVariant, n, l: 1, d: 32, dropout: 0 };
        return { spec, params: initAdapter(spec, n) };
      });
      const serving = fusedServingGraph(model, head, adapters);
      const bytes = (g: { initializers: { data: { byteLength: number } }[] }) =>
        g.initializers.reduce((a, i) => a + i.data.byteLength, 0);
      const adapterBytes = adapters.reduce((a, x) => a + 4 * x.params.size(), 0);
      const sisoBytes = bytes(fusedSisoGraph(model, head));
      assert.ok(
        bytes(serving) < sisoBytes + adapterBytes + 4096,
        `serving graph: ${bytes(serving)} bytes of constants; SISO alone ${sisoBytes}, the adapters ${adapterBytes}`,
      );
      const session = await compile(serving);
      const rng = new Rng(5);
      const items = Array.from({ length: 7 }, () => {
        const ids = Array.from({ length: 3 + Math.floor(rng.next() * 9) }, () => 1 + Math.floor(rng.next() * 100));
        return { ids, typeIds: ids.map(() => 0) };
      });
      for (const n of [1, 2, 4]) {
        const own = tokenFeeds(model, items, n === 1 ? null : n, 0);
        const feeds = servingFeeds(own, n, [1, 2, 4]);
        const out = partName(n, 'logits');
        const together = float32((await session.run(feeds, [out]))[out]);
        const a = adapters.find((x) => x.spec.n === n);
        const alone = float32(
          (
            await (
              await compile(a ? fusedMuxGraph(model, head, a.spec, a.params) : fusedSisoGraph(model, head))
            ).run(own)
          ).logits,
        );
        assert.equal(together.length, alone.length);
        for (let i = 0; i < alone.length; i++)
          assert.ok(Math.abs(together[i] - alone[i]) < 1e-5, `N = ${n}, logit ${i}: ${together[i]} vs ${alone[i]}`);
      }
    });
  }
});
