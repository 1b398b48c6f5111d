// The published package works on its own: `npm pack`, install the tarball offline into an empty
// project, import revmux from it and classify; its `revmux` binary runs the compiled JavaScript.
// Offline, as npm would lay it out: the tarball unpacked as node_modules/revmux, and each dependency its
// package.json declares linked from this checkout's node_modules (npm's cache holds tarballs but not the
// registry metadata `npm install --offline` needs). An import of anything undeclared fails, as it would
// for a user.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/init.js';
import { bertPreset } from '../../src/models/presets.js';
import { saveModel } from '../../src/models/save.js';

const env = {
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });

describe('the npm package', () => {
  it('installs offline from its tarball, imports, classifies and runs its binary', { timeout: 600_000 }, () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-pack-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], process.cwd())) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0].files.map((f) => f.path);
    assert.ok(
      files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('bin/revmux.js'),
      'compiled code, types and the binary are packed',
    );
    assert.deepEqual(
      files.filter((f) => /^(src|test|runs|results|models)\//.test(f)),
      [],
      'sources, tests and results stay out',
    );

    const project = path.join(tmp, 'app');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    const modules = path.join(project, 'node_modules');
    fs.mkdirSync(modules);
    run('tar', ['-xzf', path.join(tmp, packed[0].filename), '-C', modules], project);
    fs.renameSync(path.join(modules, 'package'), path.join(modules, 'revmux'));
    const manifest = JSON.parse(fs.readFileSync(path.join(modules, 'revmux', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      bin: Record<string, string>;
    };
    for (const [dep, version] of Object.entries(manifest.dependencies)) {
      const from = path.resolve('node_modules', dep);
      const installed = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')).version;
      assert.equal(installed, version, `${dep}: the checkout has ${installed}, the package pins ${version}`);
      fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
      fs.symlinkSync(from, path.join(modules, dep), 'dir');
    }
    fs.mkdirSync(path.join(modules, '.bin'));
    fs.symlinkSync(path.join('..', 'revmux', manifest.bin.revmux), path.join(modules, '.bin', 'revmux'));

    const model = path.join(tmp, 'model');
    const tokJson = syntheticTokenizerJson();
    const vocab = Object.keys((tokJson.model as { vocab: Record<string, number> }).vocab).length;
    const config = bertPreset('tiny', {
      vocab_size: vocab,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      num_labels: 2,
    });
    fs.mkdirSync(path.join(tmp, 'tok'));
    fs.writeFileSync(path.join(tmp, 'tok', 'tokenizer.json'), JSON.stringify(tokJson));
    saveModel(createModel(config, { seed: 1, heads: (x) => !x.startsWith('cls.') }), model, {
      tokenizerFrom: path.join(tmp, 'tok'),
    });

    const script = `import { RevmuxClassifier } from 'revmux';
const clf = await RevmuxClassifier.load({ model: ${JSON.stringify(model)} });
console.log(JSON.stringify(await clf.classify(['good movie', 'bad movie'])));`;
    fs.writeFileSync(path.join(project, 'main.mjs'), script);
    const out = JSON.parse(run(process.execPath, ['main.mjs'], project)) as { label: string; score: number }[];
    assert.equal(out.length, 2);
    for (const p of out) {
      assert.ok(['negative', 'positive'].includes(p.label), p.label);
      assert.ok(p.score >= 0.5 && p.score <= 1, String(p.score));
    }
    const help = run(path.join(project, 'node_modules', '.bin', 'revmux'), ['--help'], project);
    assert.match(help, /^Usage: revmux/);
    assert.ok(
      !fs.existsSync(path.join(project, 'node_modules', 'revmux', 'src')),
      'the installed binary can only be running dist/',
    );
  });
});
