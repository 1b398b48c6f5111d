// Checkpoint averaging (src/models/average.ts): the mean of each weight, the sources recorded, and a clear
// refusal for folders of another shape.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { averageModels, readAverageRecord } from '../../src/models/average.js';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { loadModel } from '../../src/models/load.js';
import { saveModel } from '../../src/models/save.js';

const tinyLlama = (hidden: number, seed: number) =>
  createModel(
    parseConfig({
      model_type: 'llama',
      hidden_size: hidden,
      intermediate_size: 2 * hidden,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      vocab_size: 50,
    }),
    { seed },
  );

describe('averageModels', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-average-'));
  const a = path.join(tmp, 'a');
  const b = path.join(tmp, 'b');
  saveModel(tinyLlama(16, 1), a);
  saveModel(tinyLlama(16, 2), b);

  it('writes the element-wise mean of every weight and names its sources', () => {
    const out = path.join(tmp, 'mean');
    averageModels([a, b], out);
    const [ma, mb, mean] = [a, b, out].map((d) => loadModel(d));
    assert.equal(mean.weights.names().length, ma.weights.names().length);
    let differing = 0;
    for (const name of ma.weights.names()) {
      const [x, y, m] = [ma, mb, mean].map((model) => model.weights.get(name).data);
      if (x.some((v, i) => v !== y[i])) differing++; // norms start at 1 in both
      for (let i = 0; i < m.length; i++) assert.equal(m[i], Math.fround((x[i] + y[i]) / 2), `${name}[${i}]`);
    }
    assert.ok(differing > ma.weights.names().length / 2, `${differing} weights differ between the seeds`);
    assert.deepEqual(readAverageRecord(out), { models: [a, b] });
    assert.equal(readAverageRecord(a), null);
  });

  it('refuses folders of another shape, naming the folder', () => {
    const wide = path.join(tmp, 'wide');
    saveModel(tinyLlama(32, 3), wide);
    assert.throws(() => averageModels([a, wide], path.join(tmp, 'x')), new RegExp(`${wide}: its config.json`));
    assert.throws(() => averageModels([a], path.join(tmp, 'y')), /at least two model folders/);
    assert.throws(() => averageModels([a, b], a), /is one of the sources/);
  });
});
