// The backbones committed under models/ (issues #12, #13) are what their cards say: float16, at most 25 MB,
// a MODEL_CARD.md; the pretrained ones score their held-out slice as their cards say, and each classifier
// (and its adapter, if it has one) scores the dev set within 0.1 point of its card.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evaluatePairings, sisoAccuracy } from '../../src/eval/pairing.js';
import { loadAdapter, specOf } from '../../src/mux/adapter.js';
import { loadModel } from '../../src/models/load.js';
import { prepareDevFeatures, taskHead } from '../../src/mux/task-features.js';
import { parseTask } from '../../src/data/glue.js';
import { sharedData } from '../helpers/shared-data.js';

const MODELS = 'models';
const folders = fs.existsSync(MODELS) ? fs.readdirSync(MODELS).filter((d) => !d.startsWith('.')) : [];
const card = (d: string) => fs.readFileSync(path.join(MODELS, d, 'MODEL_CARD.md'), 'utf8');

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

  it('name no path of the machine they were made on', () => {
    for (const d of folders) {
      for (const f of fs.readdirSync(path.join(MODELS, d), { recursive: true }).map(String)) {
        if (!/\.(json|md)$/.test(f) || f === 'tokenizer.json') continue;
        const text = fs.readFileSync(path.join(MODELS, d, f), 'utf8');
        assert.doesNotMatch(text, /"\/(work|home|tmp|Users)\/|`\/(work|home|tmp|Users)\//, `${d}/${f}`);
      }
    }
  });

  it("pretrained backbones score their held-out slice as their cards say, by the cards' own command", async (t) => {
    const corpus = sharedData(t, 'corpus/enwiki-sample.txt.gz');
    if (!corpus) return;
    const scored = folders.map(card).filter((c) => c.includes('revmux pretrain --score-only'));
    assert.ok(scored.length >= 2, 'the encoder and the decoder cards give a scoring command');
    for (const text of scored) {
      const line = /npx revmux (pretrain --score-only .*)/.exec(text)![1];
      const args = line.split(' ').map((a) => (a.endsWith('corpus/enwiki-sample.txt.gz') ? corpus : a));
      const out = execFileSync(process.execPath, [path.resolve('bin/revmux.js'), ...args], { encoding: 'utf8' });
      const r = JSON.parse(out) as { heldout_loss: number; heldout_accuracy: number };
      const [, loss, acc] = /loss \*\*([\d.]+)\*\* nats, accuracy \*\*([\d.]+)%\*\*/.exec(text)!;
      assert.ok(Math.abs(r.heldout_loss - Number(loss)) < 5e-5, `${line}: loss ${r.heldout_loss}, card ${loss}`);
      assert.ok(Math.abs(100 * r.heldout_accuracy - Number(acc)) < 5e-3, `${line}: ${r.heldout_accuracy}, card ${acc}`);
    }
  });

  it(
    'the classifiers (and their RevMUX adapters) score the dev set as their cards say',
    { timeout: 600_000 },
    async (t) => {
      const glue = sharedData(t, 'glue');
      if (!glue) return;
      const classifiers = folders.filter((d) => / dev, \d+ examples: \*\*/.test(card(d)));
      assert.ok(classifiers.includes('bert-mini-wiki8k-nb-sst2'), classifiers.join(', '));
      for (const name of classifiers) {
        const dir = path.join(MODELS, name);
        const [, taskName, stated] = /(\w+) dev, \d+ examples: \*\*([\d.]+)\*\*/.exec(card(name))!;
        const task = parseTask(taskName.toLowerCase());
        const model = loadModel(dir);
        const dev = await prepareDevFeatures(model, { model: dir, task, dataDir: glue, l: 1, quiet: true });
        const measured = 100 * sisoAccuracy(dev);
        assert.ok(
          Math.abs(measured - Number(stated)) <= 0.1,
          `${name}: measured ${measured.toFixed(2)}, card ${stated}`,
        );
        if (!fs.existsSync(path.join(dir, 'revmux-n2'))) continue;
        // its RevMUX N = 2 adapter over the card's 10 pairings (the same l = 1 features)
        const adapterClaim = Number(/\*\*([\d.]+) ± [\d.]+\*\* \(SISO/.exec(card(name))?.[1]);
        assert.ok(adapterClaim > 50, `${name}: the card states the adapter's accuracy (${adapterClaim})`);
        const { config, params } = loadAdapter(path.join(dir, 'revmux-n2'));
        const { head } = taskHead(model, dir, task);
        const r = await evaluatePairings(model, head, specOf(config), params, dev, {
          pairings: 10,
          seed: 4141,
          quiet: true,
        });
        assert.ok(
          Math.abs(100 * r.mean - adapterClaim) <= 0.1,
          `${name}: adapter ${(100 * r.mean).toFixed(2)}, card ${adapterClaim}`,
        );
      }
    },
  );
});
