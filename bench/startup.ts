// npm run bench:startup -- [--before DIR] [--rounds 10]: how long a `revmux` command takes from process
// start to exit: from dist/ (now), from the TypeScript sources through tsx, and, with --before, from another
// checkout (for example `git worktree add /tmp/before <rev>` with node_modules linked): `revmux --help`, and
// `revmux forward` on the tiny reference BERT, interleaved. Needs a current `npm run build`. Writes
// results/startup.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { interleaved, machine, report, summarize, table } from './lib.js';

const { values: opts } = scriptArgs('npm run bench:startup -- [--before DIR] [--rounds 10]', {
  before: undefined,
  rounds: '10',
});
const rounds = numberArg('rounds', opts.rounds);
const reference = '../shared/data/reference/bert-tiny';
if (!fs.existsSync(reference)) throw new Error(`${reference}: the tiny reference model is needed`);
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-startup-')), 'out.safetensors');
const before = opts.before === undefined ? null : path.resolve(opts.before);
const cli =
  (fromSource: boolean, args: string[], root = '.') =>
  async () =>
    execFileSync(process.execPath, [path.join(root, 'bin/revmux.js'), ...args], {
      env: { ...process.env, REVMUX_FROM_SOURCE: fromSource ? '1' : '0' },
      stdio: 'ignore',
    });
const forward = [
  'forward',
  '--model',
  reference,
  '--input',
  path.join(reference, 'golden.safetensors'),
  '--out',
  out,
  '--no-hidden',
];
const cases = [
  { name: 'revmux --help, tsx (sources)', run: cli(true, ['--help']) },
  { name: 'revmux --help, dist', run: cli(false, ['--help']) },
  { name: 'revmux forward bert-tiny, tsx (sources)', run: cli(true, forward) },
  { name: 'revmux forward bert-tiny, dist', run: cli(false, forward) },
  ...(before
    ? [
        { name: `revmux --help, ${path.basename(before)}`, run: cli(true, ['--help'], before) },
        { name: `revmux forward bert-tiny, ${path.basename(before)}`, run: cli(true, forward, before) },
      ]
    : []),
];
const timings = (await interleaved(cases, rounds, 1)).map(summarize);
const ratio = (a: number, b: number) => Math.round((100 * timings[a].median_ms) / timings[b].median_ms) / 100;
const vsBefore = before ? { before, help_speedup_vs_before: ratio(4, 1), forward_speedup_vs_before: ratio(5, 3) } : {};
const result = {
  machine: machine(),
  rounds,
  timings,
  help_speedup: ratio(0, 1),
  forward_speedup: ratio(2, 3),
  ...vsBefore,
};
report(
  'start-up, median of interleaved runs',
  table(
    ['command', 'median ms', 'p95 ms', 'min ms'],
    timings.map((t) => [t.name, t.median_ms, t.p95_ms, t.min_ms]),
  ),
  result,
);
writeTextAtomic('results/startup.json', JSON.stringify(result, null, 2) + '\n');
