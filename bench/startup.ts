// npm run bench:startup: how long a `revmux` command takes from process start to exit, run from the
// TypeScript sources through tsx (how the CLI ran before the compiled package) and from dist/ (now),
// interleaved: `revmux --help`, and `revmux forward` on the tiny reference BERT. Needs a current
// `npm run build`. Writes results/startup.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { interleaved, machine, report, summarize, table } from './lib.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 10;
const reference = '../shared/data/reference/bert-tiny';
if (!fs.existsSync(reference)) throw new Error(`${reference}: the tiny reference model is needed`);
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-startup-')), 'out.safetensors');
const cli = (fromSource: boolean, args: string[]) => async () =>
  execFileSync(process.execPath, ['bin/revmux.js', ...args], { env: { ...process.env, REVMUX_FROM_SOURCE: fromSource ? '1' : '0' }, stdio: 'ignore' });
const forward = ['forward', '--model', reference, '--input', path.join(reference, 'golden.safetensors'), '--out', out, '--no-hidden'];
const cases = [
  { name: 'revmux --help, tsx (sources)', run: cli(true, ['--help']) },
  { name: 'revmux --help, dist', run: cli(false, ['--help']) },
  { name: 'revmux forward bert-tiny, tsx (sources)', run: cli(true, forward) },
  { name: 'revmux forward bert-tiny, dist', run: cli(false, forward) },
];
const timings = (await interleaved(cases, rounds, 1)).map(summarize);
const ratio = (a: number, b: number) => Math.round((100 * timings[a].median_ms) / timings[b].median_ms) / 100;
const result = { machine: machine(), rounds, timings, help_speedup: ratio(0, 1), forward_speedup: ratio(2, 3) };
report('start-up, median of interleaved runs', table(['command', 'median ms', 'p95 ms', 'min ms'], timings.map((t) => [t.name, t.median_ms, t.p95_ms, t.min_ms])), result);
writeTextAtomic('results/startup.json', JSON.stringify(result, null, 2) + '\n');
