// The backbones committed under models/ (issue #12) are what their cards say: float16, at most 25 MB,
// a MODEL_CARD.md, and the SST-2 classifier scores its dev set within 0.1 point of its card.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sisoAccuracy } from '../../src/eval/pairing.js';
import { loadModel } from '../../src/models/load.js';
import { prepareDevFeatures } from '../../src/mux/task-features.js';
import { sharedData } from '../helpers/shared-data.js';

const MODELS = 'models';
const folders = fs.existsSync(MODELS) ? fs.readdirSync(MODELS).filter((d) => !d.startsWith('.')) : [];

describe('committed models', () => {
  it('are float16 folders of at most 25 MB, each with a model card', () => {
    assert.ok(folders.length > 0, 'models/ holds the committed backbones');
    for (const d of folders) {
      const dir = path.join(MODELS, d);
      const bytes = fs.readdirSync(dir, { recursive: true }).reduce((a, f) => {
        const s = fs.statSync(path.join(dir, String(f)));
        return a + (s.isFile() ? s.size : 0);
      }, 0);
      assert.ok(bytes <= 25 * 1024 ** 2, `${dir}: ${bytes} bytes`);
      assert.ok(fs.existsSync(path.join(dir, 'MODEL_CARD.md')), `${dir}/MODEL_CARD.md`);
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).torch_dtype, 'float16', dir);
    }
  });

  it('the SST-2 classifier scores its dev set as its card says', { timeout: 300_000 }, async (t) => {
    const glue = sharedData(t, 'glue');
    if (!glue) return;
    const name = 'bert-mini-wiki8k-nb-sst2';
    const dir = path.join(MODELS, name);
    const card = fs.readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    const claimed = Number(/SST2 dev, \d+ examples: \*\*([\d.]+)\*\*/.exec(card)?.[1]);
    assert.ok(claimed > 50, `the card states a dev accuracy (${claimed})`);
    const model = loadModel(dir);
    const dev = await prepareDevFeatures(model, { model: dir, task: 'sst2', dataDir: glue, l: 1, quiet: true });
    const measured = 100 * sisoAccuracy(dev);
    assert.ok(Math.abs(measured - claimed) <= 0.1, `measured ${measured.toFixed(2)}, card ${claimed}`);
  });
});
