// DataMUX / MUX-PLM building blocks: Hadamard vectors, the [G, N, S] feed layout with DataMUX's
// index prefix, the retrieval and masked-LM targets (hand-checked), the gradient of every weight
// of both graphs against finite differences, and answers that do not depend on batch padding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/random.js';
import { compile, float32 } from '../../src/engine/runtime.js';
import { ParamSet } from '../../src/engine/params.js';
import { predictFullMux } from '../../src/eval/full-mux.js';
import { Bert } from '../../src/models/bert.js';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { type FullMuxSettings, gaussianHadamard, headShapes, initHead } from '../../src/baselines/datamux.js';
import { fullMuxGraph, groupFeeds, mlmFeeds, retrievalFeeds } from '../../src/baselines/full-mux-graph.js';
import { allParams } from '../../src/baselines/full-model.js';

const datamux: FullMuxSettings = {
  method: 'datamux',
  n: 2,
  nu: 20,
  demuxLayers: 2,
  numLabels: 2,
  fillerId: 1,
  indexIds: [2, 3],
};
const muxplm: FullMuxSettings = {
  method: 'muxplm',
  n: 2,
  nu: 20,
  demuxLayers: 3,
  numLabels: 2,
  fillerId: -1,
  indexIds: [],
};

function tinyBert(seed = 1): Bert {
  return createModel(
    parseConfig({
      model_type: 'bert',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 32,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      max_position_embeddings: 32,
      hidden_dropout_prob: 0,
      attention_probs_dropout_prob: 0,
    }),
    { seed, heads: () => false },
  ) as Bert;
}

const paramsOf = (bert: Bert, head: ParamSet, settings: FullMuxSettings) =>
  allParams({ bert, head, settings, vectors: new Float32Array(0) });

describe('Gaussian Hadamard vectors', () => {
  it('has one vector of norm ν per instance, reproducible from the seed', () => {
    const v = gaussianHadamard(3, 64, 20, 7);
    for (let i = 0; i < 3; i++) {
      let sq = 0;
      for (let j = 0; j < 64; j++) sq += v[i * 64 + j] ** 2;
      assert.ok(Math.abs(Math.sqrt(sq) - 20) < 1e-4, `norm of v_${i}`);
    }
    assert.deepEqual(gaussianHadamard(3, 64, 20, 7), v);
  });
});

describe('group feeds', () => {
  it("puts DataMUX's index prefix before each instance and pads each group to one length", () => {
    const b = groupFeeds(
      datamux,
      [{ ids: [10, 11, 12], typeIds: [0, 0, 1] }, { ids: [20] }, { ids: [30, 31] }, { ids: [40, 41] }],
      0,
    );
    assert.deepEqual(b.feeds.input_ids.shape, [2, 2, 5]);
    assert.equal(b.seq, 5);
    assert.deepEqual(
      Array.from(b.feeds.input_ids.data as BigInt64Array, Number),
      [2, 1, 10, 11, 12, /**/ 1, 3, 20, 0, 0, /**/ 2, 1, 30, 31, 0, /**/ 1, 3, 40, 41, 0],
    );
    assert.deepEqual(
      Array.from(b.feeds.attention_mask.data as BigInt64Array, Number),
      [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0],
    );
    assert.deepEqual(Array.from(b.feeds.token_type_ids.data as BigInt64Array, Number).slice(0, 5), [0, 0, 0, 0, 1]);
    assert.throws(() => groupFeeds(datamux, [{ ids: [1] }], 0), /do not fill groups of N = 2/);
  });

  it('asks retrieval only for real tokens, at mixed-stream positions after the prefix', () => {
    const seqs = [{ ids: [10, 11, 12] }, { ids: [20] }];
    const f = retrievalFeeds(datamux, seqs, 5, new Rng(3));
    const pos = Array.from(f.aux_pos.data as BigInt64Array, Number);
    const key = Array.from(f.aux_key.data as BigInt64Array, Number);
    const labels = Array.from(f.aux_labels.data as BigInt64Array, Number);
    pos.forEach((p, m) => {
      assert.ok(p >= 2 && p < 5, `position ${p} after the 2-token prefix`);
      const want = seqs[key[m]].ids[p - 2]; // group 0: key = instance index
      assert.equal(labels[m], want, `target at t = ${p} of instance ${key[m]}`);
    });
  });

  it('maps masked-LM targets of row r, token j to group r / N, instance r % N, position prefix + j', () => {
    const f = mlmFeeds(datamux, BigInt64Array.from([1n, 7n, 10n]), BigInt64Array.from([5n, 6n, 7n]), 4, 6);
    // rows of 4 tokens: flat 1 -> row 0 token 1; 7 -> row 1 token 3; 10 -> row 2 token 2
    assert.deepEqual(Array.from(f.aux_pos.data as BigInt64Array, Number), [
      0 * 6 + 2 + 1,
      0 * 6 + 2 + 3,
      1 * 6 + 2 + 2,
    ]);
    // DataMUX: rows of the key states
    assert.deepEqual(Array.from(f.aux_key.data as BigInt64Array, Number), [0 * 2 + 0, 0 * 2 + 1, 1 * 2 + 0]);
    const g = mlmFeeds(muxplm, BigInt64Array.from([7n]), BigInt64Array.from([6n]), 4, 4);
    assert.deepEqual(Array.from(g.aux_key.data as BigInt64Array, Number), [1]); // MUX-PLM: the instance
  });
});

describe('whole-model multiplexer graphs', () => {
  for (const s of [datamux, muxplm]) {
    for (const objective of s.method === 'datamux' ? (['task'] as const) : (['task', 'mlm'] as const)) {
      it(`${s.method} ${objective}: the gradient of every weight matches finite differences`, async () => {
        const bert = tinyBert();
        const head = initHead(objective === 'mlm' ? { ...s, numLabels: 0, demuxLayers: 2 } : s, 16, 40, 0.2, 3);
        const params = paramsOf(bert, head, s);
        const settings = objective === 'mlm' ? { ...s, numLabels: 0, demuxLayers: 2 } : s;
        const vectors = gaussianHadamard(2, 16, 4, 5);
        const g = fullMuxGraph(bert, settings, params, vectors, {
          objective,
          training: true,
          seed: 1,
          retrievalWeight: 0.3,
        });
        const session = await compile(g);
        const rng = new Rng(11);
        const seqs = Array.from({ length: 4 }, (_, i) => ({
          ids: Array.from({ length: 3 + i }, () => 5 + rng.int(30)),
        }));
        const batch = groupFeeds(settings, seqs, 0);
        const labels = { labels: { data: BigInt64Array.from([0n, 1n, 1n, 0n]), shape: [4] } };
        const feeds =
          objective === 'mlm'
            ? {
                ...batch.feeds,
                ...mlmFeeds(
                  settings,
                  BigInt64Array.from([1n, 6n, 15n]),
                  BigInt64Array.from([7n, 8n, 9n]),
                  6,
                  batch.seq,
                ),
              }
            : {
                ...batch.feeds,
                ...labels,
                ...(s.method === 'datamux' ? retrievalFeeds(settings, seqs, batch.seq, new Rng(2)) : {}),
              };
        const run = async (names?: string[]) => session.run({ ...params.feeds(), ...feeds }, names);
        const r = await run();
        const lossAt = async () => float32((await run(['loss'])).loss)[0];
        const probe = new Rng(5);
        for (const p of params.list()) {
          const gr = float32(r[`grad.${p.name}`]);
          const dir = Float32Array.from(p.data, () => probe.next() * 2 - 1);
          let analytic = 0;
          for (let i = 0; i < dir.length; i++) analytic += gr[i] * dir[i];
          const keep = p.data.slice();
          const eps = 1e-3;
          for (let i = 0; i < dir.length; i++) p.data[i] = keep[i] + eps * dir[i];
          const up = await lossAt();
          for (let i = 0; i < dir.length; i++) p.data[i] = keep[i] - eps * dir[i];
          const down = await lossAt();
          p.data.set(keep);
          const numeric = (up - down) / (2 * eps);
          assert.ok(
            Math.abs(analytic - numeric) <= 3e-3 + 0.03 * Math.abs(numeric),
            `${p.name}: autodiff ${analytic} vs finite difference ${numeric}`,
          );
        }
      });
    }
  }

  it('lists the head tensors of each method', () => {
    assert.deepEqual(
      headShapes(muxplm, 16, 40)
        .map(([n]) => n)
        .filter((n) => n.startsWith('demux.dense')),
      [
        'demux.dense1.weight',
        'demux.dense1.bias',
        'demux.dense_mid.weight',
        'demux.dense_mid.bias',
        'demux.dense2.weight',
        'demux.dense2.bias',
      ],
    );
    assert.deepEqual(headShapes(datamux, 16, 40).find(([n]) => n === 'demux.dense1.weight')?.[1], [16, 32]);
    assert.ok(!headShapes({ ...muxplm, numLabels: 0 }, 16, 40).some(([n]) => n.includes('classifier')));
  });

  for (const s of [datamux, muxplm]) {
    it(`${s.method}: with every weight a graph constant (the benchmark's graph), the same logits as fed`, async () => {
      const bert = tinyBert(5);
      const params = paramsOf(bert, initHead(s, 16, 40, 0.2, 3), s);
      const vectors = gaussianHadamard(2, 16, 20, 9);
      const graph = (constantWeights: boolean) =>
        compile(
          fullMuxGraph(bert, s, params, vectors, { objective: 'task', training: false, seed: 0, constantWeights }),
        );
      const rng = new Rng(8);
      const b = groupFeeds(
        s,
        Array.from({ length: 6 }, (_, i) => ({ ids: Array.from({ length: 3 + i }, () => 5 + rng.int(30)) })),
        0,
      );
      const fed = float32((await (await graph(false)).run({ ...params.feeds(), ...b.feeds }, ['logits'])).logits);
      const fixed = float32((await (await graph(true)).run(b.feeds, ['logits'])).logits);
      assert.equal(fixed.length, 12);
      fed.forEach((x, i) => assert.ok(Math.abs(x - fixed[i]) < 1e-5, `logit ${i}: ${x} fed, ${fixed[i]} constant`));
      assert.throws(
        () =>
          fullMuxGraph(bert, s, params, vectors, { objective: 'task', training: true, seed: 0, constantWeights: true }),
        /constant weights cannot be trained/,
      );
    });
  }

  for (const s of [datamux, muxplm]) {
    it(`${s.method}: an instance's answer does not depend on its batch's padding; odd counts are filled`, async () => {
      const bert = tinyBert(4);
      const params = paramsOf(bert, initHead(s, 16, 40, 0.2, 8), s);
      const session = await compile(
        fullMuxGraph(bert, s, params, gaussianHadamard(2, 16, 20, 9), { objective: 'task', training: false, seed: 0 }),
      );
      const rng = new Rng(21);
      const data = Array.from({ length: 9 }, (_, i) => ({
        ids: Array.from({ length: 2 + ((i * 5) % 9) }, () => 5 + rng.int(30)),
        typeIds: [],
        label: 0,
      }));
      const order = [...data.keys()];
      const predict = async (batchSize: number) => {
        // logits, not just classes: run groups one by one vs all at once
        const out: number[][] = [];
        for (let start = 0; start < order.length; start += batchSize) {
          const idx = order.slice(start, start + batchSize);
          while (idx.length % 2) idx.push(order[0]);
          const b = groupFeeds(
            s,
            idx.map((i) => data[i]),
            0,
          );
          const l = float32((await session.run({ ...params.feeds(), ...b.feeds }, ['logits'])).logits);
          idx.forEach((ex, r) => (out[ex] ??= [l[2 * r], l[2 * r + 1]]));
        }
        return out;
      };
      const alone = await predict(2);
      const together = await predict(10);
      for (let i = 0; i < data.length; i++)
        for (let j = 0; j < 2; j++)
          assert.ok(Math.abs(alone[i][j] - together[i][j]) < 1e-4, `example ${i}: ${alone[i]} vs ${together[i]}`);
      const pred = await predictFullMux(session, params, s, data, order, 0, 4);
      assert.ok(
        pred.every((p) => p === 0 || p === 1),
        'every example answered',
      );
    });
  }
});
