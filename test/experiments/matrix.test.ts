// The experiment grid runner: cells run once (a second run skips them), each writes its evidence
// JSON, an interrupted grid continues, and the results page renders from the JSON files alone.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { syntheticExamples, syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { finetune } from '../../src/train/finetune.js';
import { pretrain } from '../../src/train/pretrain.js';
import { cellsOf, readGrid } from '../../experiments/matrix-grid.js';

const root = process.cwd();
let work = '';
let gridFile = '';
const run = (script: string, args: string[]) =>
  execFileSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), path.join(root, 'experiments', script), ...args],
    { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );

/** A cell's mean accuracy as the page prints it. */
const pct = (c: { evaluation: { mean: number } }) => (100 * c.evaluation.mean).toFixed(2).replace('.', '\\.');

describe('experiment:matrix', () => {
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-matrix-'));
    const tok = path.join(work, 'tok');
    fs.mkdirSync(tok);
    fs.writeFileSync(path.join(tok, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    const backbone = path.join(work, 'backbone');
    const small = {
      hidden_size: 32,
      intermediate_size: 64,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      max_position_embeddings: 64,
    };
    await finetune({
      init: 'tiny',
      initConfig: small,
      tokenizer: tok,
      task: 'synthetic',
      dataDir: null,
      out: backbone,
      epochs: 1,
      lr: 2e-3,
      limitTrain: 1500,
      limitDev: 200,
      seed: 1,
      quiet: true,
      log: () => {},
    });
    // a MUX-PLM start folder: a few multiplexed pretraining steps on the task's words
    const corpus = path.join(work, 'corpus.txt');
    const words = [...new Set(syntheticExamples('train', 200, 77).flatMap((e) => e.textA.split(' ')))];
    fs.writeFileSync(
      corpus,
      Array.from({ length: 200 }, (_, i) => words.slice(i % 20, (i % 20) + 20).join(' ')).join('\n'),
    );
    await pretrain({
      corpus,
      tokenizer: tok,
      model: backbone,
      out: path.join(work, 'muxplm-n2'),
      mux: 2,
      seqLen: 32,
      batchSize: 16,
      maxSteps: 6,
      evalEvery: 6,
      heldOutSequences: 16,
      seed: 4,
      quiet: true,
      log: () => {},
    });
    gridFile = path.join(work, 'grid.json');
    const grid = {
      name: 'tiny',
      backbones: { tiny: { synthetic: backbone } },
      train: {
        lr: 0.001,
        max_epochs: 2,
        patience: 1,
        evals_per_epoch: 2,
        max_length: { synthetic: 32 },
        limit_train: 400,
        limit_dev: 100,
      },
      whole_model: {
        lr: 0.001,
        max_epochs: 2,
        patience: 1,
        evals_per_epoch: 1,
        muxplm: { 2: path.join(work, 'muxplm-n2') },
      },
      groups: [
        {
          name: 'variants',
          backbone: 'tiny',
          tasks: ['synthetic'],
          variants: ['revmux', 'vanilla'],
          n: [2],
          l: [1],
          seeds: [1],
        },
        { name: 'sweep', backbone: 'tiny', tasks: ['synthetic'], variants: ['revmux'], n: [2], l: [0, 1], seeds: [1] },
        {
          name: 'whole-model',
          backbone: 'tiny',
          tasks: ['synthetic'],
          variants: ['datamux', 'muxplm'],
          n: [2],
          l: [0],
          seeds: [1],
        },
      ],
    };
    fs.writeFileSync(gridFile, JSON.stringify(grid));
  });

  it('runs each cell once, writes its evidence, and renders the results page from it', { timeout: 600_000 }, () => {
    assert.deepEqual(
      run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'),
      [
        'tiny/synthetic/revmux-n2-l1-s1',
        'tiny/synthetic/vanilla-n2-l1-s1',
        'tiny/synthetic/revmux-n2-l0-s1',
        'tiny/synthetic/datamux-n2-l0-s1',
        'tiny/synthetic/muxplm-n2-l0-s1',
      ],
      'the sweep shares l = 1 with the first group',
    );
    run('matrix.ts', ['--grid', gridFile, '--only', 'vanilla']); // an interrupted grid: one cell done
    assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), [
      'tiny/synthetic/revmux-n2-l1-s1',
      'tiny/synthetic/revmux-n2-l0-s1',
      'tiny/synthetic/datamux-n2-l0-s1',
      'tiny/synthetic/muxplm-n2-l0-s1',
    ]);
    run('matrix.ts', ['--grid', gridFile]);
    assert.equal(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim(), '', 'nothing left to run');
    const cell = JSON.parse(
      fs.readFileSync(path.join(work, 'results/matrix/tiny/tiny/synthetic/revmux-n2-l1-s1.json'), 'utf8'),
    );
    assert.equal(cell.evaluation.pairings, 10);
    assert.equal(cell.evaluation.slot_accuracy.length, 2);
    assert.ok(cell.epochs_trained > 0 && cell.epochs_trained <= 2);
    assert.match(cell.backbone_sha256, /^[0-9a-f]{64}$/);
    assert.equal(cell.max_length, 32, "the grid's length for this task");
    assert.ok(cell.loop_seconds > 0 && cell.train_seconds === cell.loop_seconds, 'training time from the loop state');
    const whole = JSON.parse(
      fs.readFileSync(path.join(work, 'results/matrix/tiny/tiny/synthetic/datamux-n2-l0-s1.json'), 'utf8'),
    );
    assert.equal(whole.evaluation.pairings, 10);
    assert.equal(
      whole.evaluation.siso_accuracy,
      cell.evaluation.siso_accuracy,
      'scored against the same SISO backbone',
    );
    assert.ok(whole.trainable_parameters > cell.trainable_parameters, 'every weight trains');
    assert.equal(whole.patience, 1, "the grid's stopping rule is recorded");
    assert.ok(whole.epochs_trained > 0 && whole.epochs_trained <= 2, `${whole.epochs_trained} epochs`);
    // a speed measurement joins the table by (variant, N, l), from its bench.json alone
    fs.mkdirSync(path.join(work, 'results/matrix/tiny/speed/tiny'), { recursive: true });
    fs.writeFileSync(
      path.join(work, 'results/matrix/tiny/speed/tiny/bench.json'),
      JSON.stringify({
        model: 'tiny',
        hidden: 32,
        results: [
          { variant: 'revmux', n: 2, l: 1, speedup: 1.5, bound_flops: 1.8 },
          { variant: 'datamux', n: 2, l: 0, speedup: 1.4, bound_flops: 1.9 },
          { variant: 'muxplm', n: 2, l: 0, speedup: 1.6, bound_flops: 2 },
        ],
      }),
    );
    run('results-page.ts', []);
    const page = fs.readFileSync(path.join(work, 'docs/results.md'), 'utf8');
    assert.match(page, /\| revmux \| 2 \| 1 \|.* 1\.5x \(bound 1\.8x\) \|$/m);
    assert.match(page, /\| revmux \| 2 \| 1 \| \d+\.\d\d \|/);
    assert.match(page, /\| vanilla \| 2 \| 1 \| \d+\.\d\d \|/);
    assert.match(page, /\| datamux \(whole model, l = 0\) \| 2 \| 1 \| \d+\.\d\d \|/);
    assert.match(page, /RevMUX ≥ DataMUX at N = 2/);
    assert.match(page, /## The paper's claims across all tables[^#]*- RevMUX ≥ DataMUX at N = 2, 1 table: /);
    // at equal measured speed: the most accurate RevMUX cell at least as fast as each whole-model row
    assert.match(
      page,
      new RegExp(
        '- RevMUX ≥ DataMUX N = 2 at its speed-up on the backbone: [\\d.]+ vs [\\d.]+ ' +
          '\\(difference .*; RevMUX N = 2, l = 1: 1\\.5x, 1\\.4x\\)',
      ),
    );
    assert.match(
      page,
      /- RevMUX ≥ MUX-PLM N = 2 at its speed-up on the backbone \(1\.6x\): no RevMUX cell here was measured/,
    );
    assert.match(page, /Prefill sweep/);
    assert.match(page, /ORA ≥ vanilla|RevMUX from N|More prefill layers/);
    assert.ok(fs.existsSync(path.join(work, 'docs/img/results-tiny-tiny-synthetic.png')));
    assert.doesNotMatch(page, /In plain words/, 'no reading written, none shown');
    // the hand-written reading goes first, flagged when the grids have changed since it was written
    const reading = path.join(work, 'experiments/results-reading.md');
    fs.mkdirSync(path.dirname(reading), { recursive: true });
    fs.writeFileSync(reading, 'A reading without its cell count.\n');
    assert.throws(() => run('results-page.ts', []), /results-reading\.md: the first line must be/);
    fs.writeFileSync(reading, '<!-- written against 2 cells -->\nRevMUX keeps its accuracy here.\n');
    run('results-page.ts', []);
    const read = fs.readFileSync(path.join(work, 'docs/results.md'), 'utf8');
    assert.match(
      read,
      new RegExp(
        '## In plain words\n\n\\*Written when the grids held 2 cells; they now hold 5: [^\n]*\n\n' +
          "RevMUX keeps its accuracy here\\.\n\n## The paper's claims",
      ),
    );
    fs.rmSync(reading);
  });

  it(
    'runs a cell again, keeping its old evidence, once its backbone folder holds other weights',
    {
      timeout: 600_000,
    },
    () => {
      const cellsDir = path.join(work, 'results/matrix/tiny/tiny/synthetic');
      const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
      const before = read(path.join(cellsDir, 'vanilla-n2-l1-s1.json'));
      // a fine-tune written again into the same folder: here the lowest mantissa byte of the last weight
      const file = path.join(work, 'backbone', 'model.safetensors');
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 4] ^= 1;
      fs.writeFileSync(file, bytes);
      const every = [
        'tiny/synthetic/revmux-n2-l1-s1',
        'tiny/synthetic/vanilla-n2-l1-s1',
        'tiny/synthetic/revmux-n2-l0-s1',
        'tiny/synthetic/datamux-n2-l0-s1',
        'tiny/synthetic/muxplm-n2-l0-s1',
      ];
      assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), every, 'all stale');
      run('matrix.ts', ['--grid', gridFile, '--only', 'vanilla']);
      const kept = path.join(
        work,
        'results/matrix/tiny/superseded/tiny/synthetic',
        `vanilla-n2-l1-s1.${before.backbone_sha256.slice(0, 12)}.json`,
      );
      assert.deepEqual(read(kept), before, 'the old evidence, unchanged, out of the rendered tree');
      const after = read(path.join(cellsDir, 'vanilla-n2-l1-s1.json'));
      assert.match(after.backbone_sha256, /^[0-9a-f]{64}$/);
      assert.notEqual(after.backbone_sha256, before.backbone_sha256);
      assert.deepEqual(
        run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'),
        every.filter((k) => !k.includes('vanilla')),
      );
      assert.throws(() => run('results-page.ts', []), /synthetic: cells on different backbone weights/);
      run('matrix.ts', ['--grid', gridFile, '--retire-stale', '--only', 'revmux-n2-l1']);
      assert.ok(!fs.existsSync(path.join(cellsDir, 'revmux-n2-l1-s1.json')), 'set aside, not run');
      assert.deepEqual(
        run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'),
        every.filter((k) => !k.includes('vanilla')),
      );
      // MUX-PLM cells also depend on their multiplexed-pretrained start folder
      run('matrix.ts', ['--grid', gridFile]);
      const muxplm = read(path.join(cellsDir, 'muxplm-n2-l0-s1.json'));
      assert.match(muxplm.start_model_sha256, /^[0-9a-f]{64}$/);
      const start = path.join(work, 'muxplm-n2', 'model.safetensors');
      const startBytes = fs.readFileSync(start);
      startBytes[startBytes.length - 4] ^= 1;
      fs.writeFileSync(start, startBytes);
      assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), [
        'tiny/synthetic/muxplm-n2-l0-s1',
      ]);
    },
  );

  it('leaves a cell another running process holds, and takes over a lock whose process is gone', () => {
    // the previous test left the MUX-PLM cell stale
    const lock = path.join(work, 'runs/matrix/tiny/tiny/synthetic/muxplm-n2-l0-s1.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, String(process.pid));
    run('matrix.ts', ['--grid', gridFile]);
    assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), [
      'tiny/synthetic/muxplm-n2-l0-s1',
    ]);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(lock, String(gone));
    run('matrix.ts', ['--grid', gridFile]);
    assert.equal(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim(), '', 'run by the second runner');
    assert.ok(!fs.existsSync(lock), 'released');
  });

  it("sets a cell aside once the grid's training settings for it change, naming what changed", () => {
    // the previous test ran every cell: nothing is left
    assert.equal(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim(), '');
    const original = fs.readFileSync(gridFile, 'utf8');
    const grid = JSON.parse(original);
    grid.train.lr = 0.002; // the adapters' recipe; the whole-model cells keep theirs
    fs.writeFileSync(gridFile, JSON.stringify(grid));
    try {
      assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), [
        'tiny/synthetic/revmux-n2-l1-s1',
        'tiny/synthetic/vanilla-n2-l1-s1',
        'tiny/synthetic/revmux-n2-l0-s1',
      ]);
      const cellsDir = path.join(work, 'results/matrix/tiny/tiny/synthetic');
      const before = fs.readFileSync(path.join(cellsDir, 'vanilla-n2-l1-s1.json'), 'utf8');
      const hash = JSON.parse(before).backbone_sha256.slice(0, 12);
      run('matrix.ts', ['--grid', gridFile, '--retire-stale', '--only', 'vanilla']);
      const kept = path.join(
        work,
        'results/matrix/tiny/superseded/tiny/synthetic',
        `vanilla-n2-l1-s1.${hash}.lr-0.001.json`,
      );
      assert.equal(fs.readFileSync(kept, 'utf8'), before, 'the old evidence, byte for byte');
      // the whole-model cells have their own stopping rule (vanilla: retired above, so to run again)
      grid.train.lr = 0.001;
      grid.whole_model.patience = 2;
      fs.writeFileSync(gridFile, JSON.stringify(grid));
      assert.deepEqual(run('matrix.ts', ['--grid', gridFile, '--dry-run']).trim().split('\n'), [
        'tiny/synthetic/vanilla-n2-l1-s1',
        'tiny/synthetic/datamux-n2-l0-s1',
        'tiny/synthetic/muxplm-n2-l0-s1',
      ]);
    } finally {
      fs.writeFileSync(gridFile, original);
    }
  });

  it("trains a group's own learning rate beside the grid's, and the page compares at the better one", () => {
    const grid = JSON.parse(fs.readFileSync(gridFile, 'utf8'));
    grid.groups.push({ ...grid.groups[0], name: 'low-lr', variants: ['revmux'], lr: 0.003 });
    const lrGrid = path.join(work, 'grid-lr.json');
    fs.writeFileSync(lrGrid, JSON.stringify(grid));
    assert.deepEqual(run('matrix.ts', ['--grid', lrGrid, '--dry-run', '--only', 'revmux']).trim().split('\n'), [
      'tiny/synthetic/revmux-n2-l1-s1-lr0.003',
    ]);
    run('matrix.ts', ['--grid', lrGrid, '--only', 'revmux']);
    const cellsDir = path.join(work, 'results/matrix/tiny/tiny/synthetic');
    const low = JSON.parse(fs.readFileSync(path.join(cellsDir, 'revmux-n2-l1-s1-lr0.003.json'), 'utf8'));
    const plain = JSON.parse(fs.readFileSync(path.join(cellsDir, 'revmux-n2-l1-s1.json'), 'utf8'));
    assert.equal(low.lr, 0.003);
    assert.equal(plain.lr, 0.001, 'the grid-rate cell stands beside it');
    run('results-page.ts', []);
    const page = fs.readFileSync(path.join(work, 'docs/results.md'), 'utf8');
    const [better, worse] = low.evaluation.mean >= plain.evaluation.mean ? [low, plain] : [plain, low];
    assert.match(page, new RegExp(`\\| revmux \\(lr ${better.lr}, best of 2\\) \\| 2 \\| 1 \\| ${pct(better)} \\|`));
    assert.match(page, /Learning rates tried/);
    for (const c of [better, worse])
      assert.match(page, new RegExp(`\\| revmux \\| 2 \\| 1 \\| ${c.lr} \\| 1 \\| ${pct(c)} \\|`));
  });

  it('refuses an unknown flag before it trains anything', () => {
    assert.throws(() => run('matrix.ts', ['--grid', gridFile, '--help-me']), /Unknown option '--help-me'/);
    assert.match(run('matrix.ts', ['--help']), /--grid experiments\/grids\/NAME.json/);
  });

  it('reads every committed grid (experiments/grids/*.json)', () => {
    const dir = path.join(root, 'experiments', 'grids');
    const grids = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(grids.length >= 4, grids.join(', '));
    for (const f of grids) {
      const g = readGrid(path.join(dir, f));
      assert.ok(cellsOf(g).length > 0, `${f}: no cells`);
    }
  });

  it('refuses a grid that names a backbone or variant it does not declare', () => {
    const bad = path.join(work, 'bad.json');
    const group = { name: 'g', backbone: 'a', tasks: ['synthetic'], variants: ['revmux'], n: [2], l: [1], seeds: [1] };
    const refuses = (grid: object, message: RegExp) => {
      fs.writeFileSync(bad, JSON.stringify({ name: 'bad', backbones: { a: { synthetic: 'x' } }, train: {}, ...grid }));
      assert.throws(() => run('matrix.ts', ['--grid', bad, '--dry-run']), message);
    };
    refuses({ groups: [{ ...group, backbone: 'b' }] }, /group g: backbone "b" is not in "backbones"/);
    refuses(
      { train: { max_length: { synthetic: 0 } }, groups: [group] },
      /train.max_length.synthetic must be a positive/,
    );
    refuses({ train: { max_length: { sst3: 64 } }, groups: [group] }, /sst3/);
    refuses(
      { groups: [{ ...group, variants: ['mux'] }] },
      /group g: unknown variant "mux" \(known: revmux, ora, vanilla, datamux, muxplm\)/,
    );
    refuses(
      { groups: [{ ...group, variants: ['datamux'] }] },
      /datamux multiplexes at the embeddings, so its "l" must be \[0\]/,
    );
    refuses(
      { groups: [{ ...group, variants: ['muxplm'], l: [0] }] },
      /muxplm cells need a "whole_model" training section/,
    );
    const muxplm = [{ ...group, variants: ['muxplm'], l: [0] }];
    refuses(
      { whole_model: { lr: 1, max_epochs: 1, evals_per_epoch: 1 }, groups: muxplm },
      /no whole_model.muxplm\["2"\] folder/,
    );
    refuses(
      { whole_model: { lr: 1, epochs: 1, evals_per_epoch: 1 }, groups: muxplm },
      /whole_model.epochs is now "max_epochs"/,
    );
    refuses(
      { whole_model: { lr: 1, max_epochs: 2, patience: 0, evals_per_epoch: 1 }, groups: muxplm },
      /whole_model.patience must be a positive integer, got 0/,
    );
  });
});
