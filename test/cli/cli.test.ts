// The revmux binary, run as a user would from the checkout.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { sharedData } from '../helpers/shared-data.js';

const bin = path.resolve('bin/revmux.js');
const revmux = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('revmux CLI', () => {
  it('prints help for the program and for every command', () => {
    const top = revmux('--help');
    assert.equal(top.status, 0, top.stderr);
    assert.match(top.stdout, /Usage: revmux/);
    const commands = [...top.stdout.matchAll(/^ {2}(\w[\w-]*) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    assert.ok(commands.includes('inspect'), `commands listed: ${commands}`);
    for (const c of commands) {
      const r = revmux(c, '--help');
      assert.equal(r.status, 0, `${c} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: revmux ${c}`));
    }
  });

  it('bench writes a JSON that says how it was measured: the command, the CPU and its SIMD', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-bench-'));
    const args = ['bench', '--random', 'bert-tiny', '-n', '1,2', '--rounds', '1', '--warmup', '0', '--seq', '8'];
    const r = revmux(...args, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8'));
    assert.equal(json.command, ['revmux', ...args, '--out', out].join(' '));
    assert.ok(Array.isArray(json.cpu_simd), 'cpu_simd is a list');
    assert.deepEqual(
      json.results.map((x: { n: number }) => x.n),
      [1, 2],
    );
    assert.ok(fs.readFileSync(path.join(out, 'bench.md'), 'utf8').includes(json.command));
  });

  it('inspect lists tensors, and names the path on error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-cli-'));
    const f = path.join(dir, 'w.safetensors');
    writeSafetensors(f, {
      'encoder.weight': { shape: [2, 3], data: new Float32Array(6) },
      ids: { shape: [4], data: new BigInt64Array(4) },
    });
    const out = execFileSync(process.execPath, [bin, 'inspect', f, '--json'], { encoding: 'utf8' });
    const parsed = JSON.parse(out);
    assert.equal(parsed.parameters, 10);
    assert.deepEqual(parsed.tensors.map((t: { name: string }) => t.name).sort(), ['encoder.weight', 'ids']);
    const bad = revmux('inspect', path.join(dir, 'nope'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^revmux: .*nope: no such file or folder/);
  });
});

describe('revmux argument checks', () => {
  it('refuses out-of-range numbers before any work, naming the option and value', () => {
    const cases: [string[], RegExp][] = [
      [
        ['train', '--model', 'm', '--task', 'sst2', '--out', 'o', '--lr', '-1'],
        /--lr <x>' argument '-1' is invalid\. '-1' must be greater than 0/,
      ],
      [
        ['train', '--model', 'm', '--task', 'sst2', '--out', 'o', '--max-length', '0'],
        /--max-length <n>' argument '0' is invalid\. '0' must be a positive integer/,
      ],
      [['finetune', '--task', 'sst2', '--out', 'o', '--batch-size', '0'], /--batch-size <n>' argument '0' is invalid/],
      [['finetune', '--task', 'sst2', '--out', 'o', '--epochs', '0'], /--epochs <n>' argument '0' is invalid/],
      [
        ['pretrain', '--corpus', 'c', '--out', 'o', '--dropout', '1'],
        /--dropout <p>' argument '1' is invalid\. '1' must be at least 0 and below 1/,
      ],
      [['serve', '--model', 'm', '--max-delay-ms', '-5'], /--max-delay-ms <ms>' argument '-5' is invalid/],
    ];
    for (const [args, message] of cases) {
      const r = revmux(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('an --out that is a file fails at once, naming it', (t) => {
    const tok = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!tok) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-cli-out-'));
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    const r = revmux('finetune', '--task', 'synthetic', '--init', 'tiny', '--tokenizer', tok, '--out', file);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--out .*taken: exists and is not a folder/);
  });
});

describe('revmux forward', () => {
  it('writes the golden-format outputs and reports bad inputs by name', (t) => {
    const ref = sharedData(t, 'reference/bert-tiny');
    if (!ref) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-cli-'));
    const input = path.join(dir, 'in.safetensors');
    writeSafetensors(input, {
      input_ids: { shape: [1, 4], data: BigInt64Array.of(101n, 7592n, 2088n, 102n) },
      attention_mask: { shape: [1, 4], data: BigInt64Array.of(1n, 1n, 1n, 1n) },
    });
    const out = path.join(dir, 'out.safetensors');
    const r = revmux('forward', '--model', ref, '--input', input, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const listed = JSON.parse(execFileSync(process.execPath, [bin, 'inspect', out, '--json'], { encoding: 'utf8' }));
    assert.deepEqual(listed.tensors.map((x: { name: string }) => x.name).sort(), [
      'hidden.0',
      'hidden.1',
      'hidden.2',
      'last_hidden_state',
      'logits',
      'pooler_output',
    ]);
    writeSafetensors(input, { input_ids: { shape: [1, 2], data: BigInt64Array.of(1n, 2n) } });
    const bad = revmux('forward', '--model', ref, '--input', input, '--out', out);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /in\.safetensors: input 'attention_mask' is missing/);
  });
});

describe('revmux flops and argument errors', () => {
  it('flops prints per-example FLOPs with the bound for each variant', () => {
    const r = revmux('flops', '--random', 'bert-base', '-n', '2', '-l', '6', '--variants', 'revmux', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.layers, 12);
    const [siso, mux] = out.rows;
    assert.equal(siso.variant, 'siso');
    assert.ok(Math.abs(siso.gflops_per_example - 22.35) < 0.01, `SISO ${siso.gflops_per_example} GFLOPs at S = 128`);
    assert.ok(mux.speedup_bound > 1.3 && mux.speedup_bound < 4 / 3, `bound ${mux.speedup_bound}`);
  });
  it('bad arguments are named', () => {
    const both = revmux('bench', '--random', 'bert-tiny', '--model', 'x');
    assert.equal(both.status, 1);
    assert.match(both.stderr, /give exactly one of --model DIR or --random NAME/);
    const variant = revmux('bench', '--random', 'bert-tiny', '--variants', 'revmux,datamx');
    assert.match(
      variant.stderr,
      /--variants: unknown variant 'datamx' \(known: revmux, ora, vanilla, datamux, muxplm\)/,
    );
    const int8 = revmux('bench', '--random', 'bert-tiny', '--variants', 'muxplm', '--precision', 'int8');
    assert.match(int8.stderr, /--variants muxplm: timed in fp32 only, and --precision has no fp32/);
    const badN = revmux('train', '--model', 'x', '--task', 'sst2', '--out', 'y', '-n', 'two');
    assert.notEqual(badN.status, 0);
    assert.match(badN.stderr, /'two' is not an integer/);
    const noModel = revmux('eval', '--model', 'no-such-model', '--adapter', 'y');
    assert.equal(noModel.status, 1);
    assert.match(noModel.stderr, /^revmux: no-such-model: no config\.json/);
    const nothing = revmux('eval', '--model', 'x');
    assert.equal(nothing.status, 1);
    assert.match(
      nothing.stderr,
      /with no --adapter or --mux-model, say which task the backbone alone is scored on \(--task\)/,
    );
    const method = revmux('finetune', '--method', 'datamix', '--model', 'x', '--task', 'sst2', '--out', 'y');
    assert.equal(method.status, 1);
    assert.match(method.stderr, /--method datamix: not one of siso, datamux, muxplm/);
    const noBase = revmux('finetune', '--method', 'muxplm', '--task', 'sst2', '--out', 'y');
    assert.match(noBase.stderr, /--method muxplm needs --model DIR/);
    const sisoPatience = revmux('finetune', '--model', 'x', '--task', 'sst2', '--out', 'y', '--patience', '2');
    assert.equal(sisoPatience.status, 1);
    assert.match(sisoPatience.stderr, /--patience is implemented for --method datamux\|muxplm/);
    const notMux = revmux('eval', '--model', 'x', '--mux-model', os.tmpdir());
    assert.match(notMux.stderr, /no mux_config\.json/);
  });
});
