// bench:memory's training part: the peak memory of `revmux train` (a RevMUX adapter on a frozen backbone) as
// its own process, sampled from /proc until it exits, next to the backbone's float32 weight bytes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '../src/models/load.js';
import { round } from './lib.js';
import { memoryMb } from './serve-process.js';

export interface TrainMemory {
  command: string;
  weight_mb: number;
  peak_rss_mb: number;
  peak_x_weights: number;
  /** The largest PSS sampled (every 200 ms): PSS has no kernel-kept peak. */
  max_pss_mb: number;
  seconds: number;
}

export async function adapterTrainingMemory(model: string, trainArgs: string[]): Promise<TrainMemory> {
  const weights = loadModel(model).weights.entries();
  const weightMb = weights.reduce((a, [, w]) => a + w.data.byteLength, 0) / 2 ** 20;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-memory-train-'));
  const args = ['train', '--model', model, '--out', out, ...trainArgs];
  const t0 = Date.now();
  const child = spawn(process.execPath, [path.resolve('bin/revmux.js'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  let peak = 0;
  let maxPss = 0;
  const sample = setInterval(() => {
    try {
      const m = memoryMb(child.pid!);
      peak = Math.max(peak, m.peak);
      maxPss = Math.max(maxPss, m.pss);
    } catch {
      // the process exited between two samples
    }
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sample);
  fs.rmSync(out, { recursive: true, force: true });
  if (code !== 0) throw new Error(`revmux ${args.join(' ')} exited with ${code}:\n${log.slice(-2000)}`);
  return {
    command: `revmux ${args.join(' ').replace(out, 'OUT')}`,
    weight_mb: round(weightMb, 1),
    peak_rss_mb: peak,
    peak_x_weights: round(peak / weightMb, 2),
    max_pss_mb: maxPss,
    seconds: round((Date.now() - t0) / 1000, 1),
  };
}
