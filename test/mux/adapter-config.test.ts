// adapter_config.json values are type- and range-checked at load, each error naming the file and field.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ParamSet } from '../../src/engine/params.js';
import { ADAPTER_CONFIG, type AdapterConfig, LAYOUT, loadAdapter, saveAdapter } from '../../src/mux/adapter.js';
import { adapterShapes } from '../../src/mux/spec.js';

const good: AdapterConfig = {
  revmux_version: '0.1.0',
  variant: 'revmux',
  n: 2,
  l: 1,
  d: 8,
  dropout: 0.1,
  layout: LAYOUT,
  task: 'synthetic',
  label_words: ['negative', 'positive'],
  label_ids: null,
  base_model: {
    source: 'x',
    name: 'x',
    model_type: 'bert',
    num_layers: 2,
    hidden_size: 8,
    weights_sha256: '0'.repeat(64),
  },
  training: {},
};

describe('adapter_config.json checks', () => {
  it('names the file and the field of a mistyped or out-of-range value', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-adapter-'));
    const params = new ParamSet();
    for (const [name, shape] of adapterShapes(good))
      params.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    saveAdapter(dir, good, params);
    assert.equal(loadAdapter(dir).config.n, 2);
    const file = path.join(dir, ADAPTER_CONFIG);
    const cases: [Partial<AdapterConfig> | Record<string, unknown>, RegExp][] = [
      [{ n: '2' }, /adapter_config\.json: "n" must be an integer >= 1, got "2"/],
      [{ l: 99 }, /adapter_config\.json: "l" must be an integer in \[0, 2\] \(base_model\.num_layers\), got 99/],
      [{ variant: 'revmax' }, /adapter_config\.json: "variant" must be one of revmux, ora, vanilla, got "revmax"/],
      [{ n: 3 }, /adapter_config\.json: hidden size d = 8 is not divisible by N = 3/],
      [
        { base_model: { model_type: 'bert' } },
        /adapter_config\.json: "base_model" must be an object with model_type, num_layers/,
      ],
      [{ dropout: 'x' }, /adapter_config\.json: "dropout" must be a number/],
    ];
    for (const [change, message] of cases) {
      fs.writeFileSync(file, JSON.stringify({ ...good, ...change }));
      assert.throws(() => loadAdapter(dir), message);
    }
  });
});
