// Graph builder: shape/dtype inference, build-time errors, symbolic dims, serialisation.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { Graph, ShapeError, compile, op, toNumbers } from '../../src/engine/index.js';
import { Session, encodeSession, sharedWeightsBytes } from '../../src/engine/runtime.js';

describe('graph builder', () => {
  it('infers shapes through broadcasting, matmul, reductions and layout ops', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 8]);
    const w = g.input('w', 'float32', [8, 16]);
    const y = op.matmul(x, w);
    assert.deepEqual(y.shape, ['batch', 'seq', 16]);
    assert.deepEqual(op.add(y, g.input('b', 'float32', [16])).shape, ['batch', 'seq', 16]);
    assert.deepEqual(op.reduceMean(y, [-1], true).shape, ['batch', 'seq', 1]);
    assert.deepEqual(op.reduceSum(y, [0, 2], false).shape, ['seq']);
    assert.deepEqual(op.transpose(y, [2, 0, 1]).shape, [16, 'batch', 'seq']);
    assert.deepEqual(op.reshape(y, ['batch', 'seq', 4, 4]).shape, ['batch', 'seq', 4, 4]);
    assert.deepEqual(op.reshape(y, [-1, 16]).shape, ['batch*seq', 16]);
    assert.deepEqual(op.concat([y, y], -1).shape, ['batch', 'seq', 32]);
    assert.deepEqual(
      op.split(y, [4, 12], 2).map((v) => v.shape),
      [
        ['batch', 'seq', 4],
        ['batch', 'seq', 12],
      ],
    );
    assert.deepEqual(op.slice(y, [{ axis: 2, start: 2, end: 10, step: 2 }]).shape, ['batch', 'seq', 4]);
    assert.deepEqual(
      op.gather(g.input('table', 'float32', [100, 8]), g.input('ids', 'int64', ['batch', 'seq'])).shape,
      ['batch', 'seq', 8],
    );
    assert.deepEqual(op.unsqueeze(x, [1, -1]).shape, ['batch', 1, 'seq', 8, 1]);
    assert.equal(op.greater(x, 0).dtype, 'bool');
    assert.equal(op.cast(x, 'int64').dtype, 'int64');
  });

  it('names both operands when shapes do not match', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    assert.throws(
      () => op.add(a, b),
      (e: Error) =>
        e instanceof ShapeError &&
        /Add\(a: float32\[2, 3\], b: float32\[4, 5\]\)/.test(e.message) &&
        /do not broadcast/.test(e.message),
    );
    assert.throws(
      () => op.matmul(a, b),
      /MatMul\(a: float32\[2, 3\], b: float32\[4, 5\]\): inner dimensions differ \(3 vs 4\)/,
    );
    const s = g.input('s', 'float32', ['batch', 3]);
    const t = g.input('t', 'float32', ['seq', 3]);
    assert.throws(() => op.mul(s, t), /axis -2: batch vs seq/);
    assert.throws(() => op.reshape(a, [4, 2]), /element counts differ \(6 vs 8\)/);
    assert.throws(() => op.concat([a, b], 0), /shapes must agree except on axis 0/);
    assert.throws(() => op.split(a, [1, 1], 1), /sizes add up to 2, axis has 3/);
    assert.throws(() => op.softmax(a, 2), /axis 2 is out of range for rank 2/);
    assert.throws(() => op.squeeze(a, [0]), /axis 0 has size 2, not 1/);
    assert.throws(() => op.add(a, g.input('i', 'int64', [2, 3])), /dtypes differ/);
    assert.throws(() => op.exp(g.input('j', 'int64', [2])), /expects a float tensor/);
    assert.throws(() => op.layerNorm(a, b, null), /scale must have shape \[3\]/);
    assert.throws(() => g.input('a', 'float32', [1]), /name 'a' is already used/);
  });

  it('keeps a whole float attribute a float (Gemm alpha = 1.0)', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 2]);
    const y = op.gemm(a, a, undefined, { alpha: 1 });
    assert.deepEqual(y.producer!.attrs.alpha, { kind: 'float', value: 1 });
  });

  it('initializers reference the caller’s array until encoded', () => {
    const g = new Graph();
    const data = new Float32Array([1, 2, 3]);
    const c = g.initializer(data, [3], 'float32', 'c');
    assert.equal(g.initializers.find((i) => i.value === c)!.data, data);
    assert.throws(() => g.initializer(new Float32Array(2), [3], 'float32'), /2 elements for shape \[3\]/);
  });
});

describe('runtime', () => {
  it('runs Constant nodes, initializers and int64 arithmetic', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 2]);
    const c = op.constantNode(g, Float32Array.of(1, 2, 3, 4), [2, 2]);
    const k = op.constant(g, Float32Array.of(10), [1]);
    g.output('y', op.add(op.mul(x, c), k));
    g.output('n', op.add(op.constantNode(g, BigInt64Array.of(5n), []), g.scalar(2, 'int64')));
    const r = await (await compile(g)).run({ x: Float32Array.of(1, 1, 2, 2) });
    assert.deepEqual(toNumbers(r.y), [11, 12, 16, 18]);
    assert.deepEqual(toNumbers(r.n), [7]);
  });

  it('builds a session from an encoded graph after its host arrays are gone (as the server frees them)', async () => {
    for (const fromFiles of [false, true]) {
      const wData = Float32Array.from({ length: 600 * 3 }, (_, i) => Math.sin(i) + (fromFiles ? 1 : 0));
      const g = new Graph();
      const x = g.input('x', 'float32', [1, 600]);
      g.output('y', op.matmul(x, g.initializer(wData, [600, 3], 'float32')));
      const expected = [0, 1, 2].map((j) => wData.reduce((a, v, i) => a + (i % 3 === j ? v : 0), 0));
      const encoded = encodeSession(g, { fromFiles });
      wData.fill(NaN); // what freeing the weights would leave: the session must not read them
      const session = await Session.fromEncoded(encoded);
      if (!(encoded.model instanceof Uint8Array))
        assert.ok(!fs.existsSync(encoded.model.file), 'the model file is removed once read');
      const y = toNumbers((await session.run({ x: new Float32Array(600).fill(1) })).y);
      y.forEach((v, j) =>
        assert.ok(Math.abs(v - expected[j]) < 1e-3, `fromFiles ${fromFiles}: ${v} vs ${expected[j]}`),
      );
    }
  });

  it('builds sessions from one shared weights file: results as from a buffer, each array written once', async () => {
    const wData = Float32Array.from({ length: 600 * 3 }, (_, i) => Math.sin(i)); // 7 KB: external
    const build = (relu: boolean) => {
      const g = new Graph();
      const x = g.input('x', 'float32', [2, 600]);
      const w = g.initializer(wData, [600, 3], 'float32');
      const b = g.initializer(Float32Array.of(1, 2, 3), [3], 'float32'); // 12 bytes: stays inline
      const y = op.add(op.matmul(x, w), b);
      g.output('y', relu ? op.relu(y) : y);
      return g;
    };
    const feeds = { x: Float32Array.from({ length: 1200 }, (_, i) => Math.cos(i)) };
    const fromBuffer = await (await compile(build(false), { fromFiles: false })).run(feeds);
    const start = sharedWeightsBytes();
    const fromFiles = await (await compile(build(false), { fromFiles: true })).run(feeds);
    // built from files, weights are read in place (no prepacking): the same sums, maybe in another order
    const close = (a: number[], b: number[]) =>
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${v} vs ${b[i]}`));
    close(toNumbers(fromFiles.y), toNumbers(fromBuffer.y));
    const prepacked = await (await compile(build(false), { fromFiles: true, prepack: true })).run(feeds);
    assert.deepEqual(toNumbers(prepacked.y), toNumbers(fromBuffer.y), 'with prepacking, as from a buffer');
    const once = sharedWeightsBytes();
    assert.ok(
      once - start >= wData.byteLength && once - start < wData.byteLength + 65536,
      `the weight was written (${once - start} bytes)`,
    );
    const second = await (await compile(build(true), { fromFiles: true })).run(feeds);
    assert.equal(sharedWeightsBytes(), once, 'a second session reading the same array adds nothing');
    close(
      toNumbers(second.y),
      toNumbers(fromBuffer.y).map((v) => Math.max(0, v)),
    );
    wData.fill(0); // changed in place: written again, and the new session sees the new values
    const third = await (await compile(build(false), { fromFiles: true })).run(feeds);
    assert.ok(sharedWeightsBytes() > once);
    assert.deepEqual(toNumbers(third.y), [1, 2, 3, 1, 2, 3]);
  });

  it('decides "from files" by the weights some node reads, not by dropped originals', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    g.initializer(new Float32Array(17 * 1024 ** 2), [17 * 1024 ** 2], 'float32', 'dropped_original'); // 68 MB
    g.output('y', op.add(x, g.initializer(Float32Array.of(1, 2), [2], 'float32', 'used')));
    assert.deepEqual(
      g.liveInitializers().map((i) => i.value.name),
      ['used'],
    );
    const session = await compile(g);
    assert.equal(session.fromFiles, false, '8 bytes of live weights: built from a buffer, with prepacking');
    assert.deepEqual(toNumbers((await session.run({ x: Float32Array.of(1, 1) })).y), [2, 3]);
  });

  it('one session serves many batch sizes and lengths', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 2]);
    const flat = op.reshape(x, [-1, 2]); // [batch*seq, 2]
    g.output('rows', op.reduceSum(flat, [1], false));
    g.output('back', op.reshape(flat, x.shape, [x]));
    const s = await compile(g);
    for (const [b, t] of [
      [1, 1],
      [3, 5],
      [2, 7],
    ]) {
      const data = Float32Array.from({ length: b * t * 2 }, (_, i) => i);
      const r = await s.run({ x: { data, shape: [b, t, 2] } });
      assert.deepEqual(r.rows.shape, [b * t]);
      assert.deepEqual(
        toNumbers(r.rows),
        Array.from({ length: b * t }, (_, i) => 4 * i + 1),
      );
      assert.deepEqual(r.back.shape, [b, t, 2]);
      assert.deepEqual(toNumbers(r.back), Array.from(data));
    }
  });

  it('caches sessions by graph identity and recompiles after the graph grows', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    g.output('y', op.mul(x, 2));
    const s1 = await compile(g);
    assert.equal(await compile(g), s1);
    g.output('z', op.mul(x, 3));
    const s2 = await compile(g);
    assert.notEqual(s2, s1);
    assert.deepEqual(toNumbers((await s2.run({ x: Float32Array.of(1, 2) })).z), [3, 6]);
  });

  it('rejects bad feeds naming the input and dimension', async () => {
    const g = new Graph('net');
    const a = g.input('a', 'float32', ['batch', 4]);
    const b = g.input('ids', 'int64', ['batch']);
    g.output('y', op.add(op.reduceSum(a, [1], false), op.cast(b, 'float32')));
    const s = await compile(g);
    const a2 = { data: new Float32Array(8), shape: [2, 4] };
    await assert.rejects(s.run({ a: a2 }), /missing feed for input 'ids'/);
    await assert.rejects(
      s.run({ a: a2, ids: { data: new BigInt64Array(3), shape: [3] } }),
      /dimension 'batch' is 3 here but 2 in 'a'/,
    );
    await assert.rejects(
      s.run({ a: { data: new Float32Array(6), shape: [2, 3] }, ids: { data: new BigInt64Array(2), shape: [2] } }),
      /feed 'a': axis 1 must be 4, got 3/,
    );
    await assert.rejects(
      s.run({ a: { data: new Float64Array(8), shape: [2, 4] }, ids: { data: new BigInt64Array(2), shape: [2] } }),
      /feed 'a': expected float32, got float64/,
    );
    await assert.rejects(
      s.run({ a: a2, ids: { data: new BigInt64Array(2), shape: [2] }, extra: new Float32Array(1) }),
      /feed 'extra' is not an input of graph 'net'/,
    );
    await assert.rejects(s.run({ a: new Float32Array(8), ids: new BigInt64Array(2) }), /symbolic dims/);
    const ok = await s.run({
      a: { data: Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2), shape: [2, 4] },
      ids: { data: BigInt64Array.of(10n, 20n), shape: [2] },
    });
    assert.deepEqual(toNumbers(ok.y), [14, 28]);
  });
});
