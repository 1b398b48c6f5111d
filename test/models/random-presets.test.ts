// `--random NAME` of bench and flops: every family's named sizes, and the public shapes under their own names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LlamaConfig } from '../../src/models/llama.js';
import { RANDOM_MODELS, randomModel } from '../../src/models/random-presets.js';

describe('random models of named shapes', () => {
  it('offers each family at each size, the LLaMA layout at BERT-base size among them', () => {
    for (const n of ['bert-base', 'llama-base', 't5-base', 'llama-mini', 't5-small', 'llama-tiny'])
      assert.ok(RANDOM_MODELS.includes(n), n);
    const llama = randomModel('llama-mini', 3);
    assert.equal(llama.modelType, 'llama');
    assert.deepEqual(
      [llama.numLayers, llama.hiddenSize, (llama.config as LlamaConfig).intermediate_size],
      [4, 256, 768],
    );
    const bert = randomModel('bert-tiny', 3);
    assert.deepEqual([bert.modelType, bert.numLayers, bert.hiddenSize], ['bert', 2, 128]);
    assert.ok(bert.weights.has('classifier.weight'), 'a BERT gets a classifier to time');
  });

  it('keeps the public shapes under their names: llama-tiny is not the tiny size', () => {
    const tiny = randomModel('llama-tiny');
    assert.deepEqual([tiny.numLayers, tiny.hiddenSize, (tiny.config as LlamaConfig).num_key_value_heads], [4, 256, 4]);
  });

  it('names the choices when the name is unknown', () => {
    assert.throws(() => randomModel('gpt2-base'), /--random must be one of bert-tiny, .*llama-base.*, got 'gpt2-base'/);
  });
});
