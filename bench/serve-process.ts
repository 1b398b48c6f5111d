// `revmux serve` as its own process, for benchmarks that measure it from outside (soak, memory):
// start it, wait until /health is 200, read its memory from /proc, stop it.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { round } from './lib.js';

export interface ServeProcess {
  url: string;
  pid: number;
  /** Seconds from spawn to /health 200. */
  startSeconds: number;
  stop(): Promise<void>;
}

/**
 * Memory of a process in MB, from /proc: resident memory (RSS), its peak, and the proportional set size
 * (PSS). RSS counts a file page once per mapping: sessions that map the same weights file each count it,
 * though it is in memory once. PSS counts each page once in all (what a container's memory limit
 * charges), so it is the figure to read when sessions share weights.
 */
export function memoryMb(pid: number): { rss: number; peak: number; pss: number; pssFile: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: round(kb(status, 'VmRSS') / 1024, 1),
    peak: round(kb(status, 'VmHWM') / 1024, 1),
    pss: round(kb(rollup, 'Pss') / 1024, 1),
    pssFile: round(kb(rollup, 'Pss_File') / 1024, 1),
  };
}

/** Starts `revmux serve ARGS` on a free port and waits until /health says 200. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const t0 = Date.now();
  const server: ChildProcess = spawn(
    process.execPath,
    [path.resolve('bin/revmux.js'), 'serve', '--port', '0', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let log = '';
  server.stderr!.on('data', (d) => (log += d));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) clearInterval(t), resolve(m[1]);
    }, 50);
    server.on('exit', (code) => reject(new Error(`revmux serve exited with ${code}: ${log}`)));
  });
  for (
    let i = 0;
    i < 3000 &&
    (await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    )) !== 200;
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    pid: server.pid!,
    startSeconds: (Date.now() - t0) / 1000,
    async stop() {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    },
  };
}
