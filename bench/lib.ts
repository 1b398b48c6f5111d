// Shared benchmark helpers: interleaved timing (so machine drift hits every variant alike),
// statistics, and the JSON + human table every benchmark prints.
import os from 'node:os';
import { cpuInfo } from '../src/engine/cpu.js';
import { quantile, round } from '../src/eval/stats.js';

export { quantile, round };

export interface Timing {
  name: string;
  /** Milliseconds per call, one entry per measured call. */
  samples: number[];
}

export interface Summary {
  name: string;
  calls: number;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
}

/**
 * Runs each case once per round, in turn, for `rounds` rounds after `warmup` rounds.
 * Interleaving means a slow phase of a shared machine lands on every case equally.
 */
export async function interleaved(
  cases: { name: string; run: () => Promise<unknown> }[],
  rounds: number,
  warmup = 2,
): Promise<Timing[]> {
  const out = cases.map((c) => ({ name: c.name, samples: [] as number[] }));
  for (let r = 0; r < warmup + rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const t0 = process.hrtime.bigint();
      await cases[i].run();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r >= warmup) out[i].samples.push(ms);
    }
  }
  return out;
}

export function summarize(t: Timing): Summary {
  return {
    name: t.name,
    calls: t.samples.length,
    median_ms: round(quantile(t.samples, 0.5)),
    p95_ms: round(quantile(t.samples, 0.95)),
    min_ms: round(Math.min(...t.samples)),
  };
}

export function machine() {
  return {
    ...cpuInfo(),
    cores: os.cpus().length,
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/** A plain-text table with right-aligned numbers. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Prints the human table to stderr-free stdout first, then one JSON line prefixed for grepping. */
export function report(title: string, humanTable: string, json: unknown): void {
  console.log(`\n${title}\n\n${humanTable}\n`);
  console.log(JSON.stringify(json, null, 2));
}
