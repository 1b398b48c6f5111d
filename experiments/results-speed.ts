// The grids' measured speed-ups: `revmux bench ... --out results/matrix/<grid>/speed/<name>` runs, made on
// free cores apart from the cells, joined to the cells by (variant, N, l).
import fs from 'node:fs';
import path from 'node:path';
import { groupBy } from './results-cells.js';

export interface BenchFile {
  model: string;
  hidden: number;
  layers?: number;
  results: { variant: string; n: number; l: number; speedup: number; bound_flops: number }[];
}
export function speeds(grid: string): BenchFile[] {
  const dir = path.join('results', 'matrix', grid, 'speed');
  if (!fs.existsSync(dir)) return [];
  const runs = fs.readdirSync(dir).flatMap((d) => {
    const f = path.join(dir, d, 'bench.json');
    return fs.existsSync(f) ? [JSON.parse(fs.readFileSync(f, 'utf8')) as BenchFile] : [];
  });
  // several runs on one model (say the main l, then the prefill sweep's) make one column; the grid's own
  // backbone comes first, random weights at another shape after it
  const merged = [...groupBy(runs, (b) => `${b.model}|${b.layers}`).values()].map((bs) => ({
    ...bs[0],
    results: bs.flatMap((b) => b.results),
  }));
  return merged.sort((a, b) => Number(a.model.startsWith('random')) - Number(b.model.startsWith('random')));
}
// a bench of another depth is matched at the same share of prefilled layers (l = 1 of 4 ~ l = 3 of 12)
const sameDepth = (b: BenchFile, rl: number, l: number, layers: number) =>
  b.layers ? rl * layers === l * b.layers : rl === l;
export const benchRow = (b: BenchFile, a: { variant: string; n: number; l: number }, layers: number) =>
  b.results.find((r) => r.variant === a.variant && r.n === a.n && sameDepth(b, r.l, a.l, layers));
export const speedCell = (benches: BenchFile[], a: { variant: string; n: number; l: number }, layers: number) =>
  benches
    .map((b) => benchRow(b, a, layers))
    .map((r) => (r ? `${r.speedup}x (bound ${r.bound_flops}x)` : ''))
    .join(' | ');
export const benchName = (b: BenchFile) => `${b.model} (d = ${b.hidden}${b.layers ? `, ${b.layers} layers` : ''})`;
