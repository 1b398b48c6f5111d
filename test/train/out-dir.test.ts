// The --out folder of training commands: checked before any work, stale temporaries of killed
// atomic writes removed, those of a live process kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { prepareOutDir } from '../../src/train/checkpoint.js';

describe('prepareOutDir', () => {
  it('creates the folder, refuses a file, and cleans temporaries of processes that are gone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-out-'));
    const out = path.join(dir, 'run');
    prepareOutDir(out);
    assert.ok(fs.statSync(out).isDirectory());
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!; // a pid that has exited
    fs.mkdirSync(path.join(out, '.train-state'));
    const stale = [
      path.join(out, `adapter.safetensors.tmp-${dead}-abc123`),
      path.join(out, '.train-state', `params.safetensors.tmp-${dead}-x9`),
    ];
    const live = path.join(out, `train.json.tmp-${process.pid}-zz`);
    for (const f of [...stale, live]) fs.writeFileSync(f, 'partial');
    fs.writeFileSync(path.join(out, 'notes.tmp'), 'not ours');
    prepareOutDir(out);
    for (const f of stale) assert.ok(!fs.existsSync(f), `${f} removed`);
    assert.ok(fs.existsSync(live), 'a live process keeps its temporary');
    assert.ok(fs.existsSync(path.join(out, 'notes.tmp')), 'other files are left alone');
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'x');
    assert.throws(() => prepareOutDir(file), /file: exists and is not a folder/);
    assert.throws(() => prepareOutDir(path.join(file, 'below')), /cannot write there \(ENOTDIR\)/);
  });
});
