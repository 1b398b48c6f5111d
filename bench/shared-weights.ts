// npm run bench:shared-weights -- [--mb 400] [--sessions 4]
// How onnxruntime-node holds one weight that several sessions of a process read (issue #17): from a file it
// memory-maps (what revmux does; src/engine/runtime.ts), or from one in-memory buffer passed to every session
// as `externalData`. Each way runs in its own process: the sessions are created one after another and the
// process's RSS and PSS are read after each. A last check writes into the in-memory buffer after the sessions
// exist: if the output changes, onnxruntime reads the buffer in place; if not, each session holds a copy.
// Writes results/shared-weights.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Graph } from '../src/engine/graph.js';
import { matmul } from '../src/engine/ops.js';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { machine, round, table } from './lib.js';
import { memoryMb } from './serve-process.js';

const { values: opts } = scriptArgs('npm run bench:shared-weights -- [--mb 400] [--sessions 4]', {
  mb: '400',
  sessions: '4',
  child: undefined, // the way one child process measures (the parent spawns one per way)
});
const mb = numberArg('mb', opts.mb);
const sessions = numberArg('sessions', opts.sessions);
const WAYS = ['file', 'memory'] as const;

/** One process: `sessions` sessions over one [1024, cols] float32 weight, read from `way`. */
async function child(way: (typeof WAYS)[number]) {
  const K = 1024;
  const cols = Math.round((mb * 2 ** 20) / 4 / K);
  const bytes = Buffer.alloc(K * cols * 4);
  const w = new Float32Array(bytes.buffer, bytes.byteOffset, K * cols);
  for (let i = 0; i < w.length; i += 4099) w[i] = (i % 7) - 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-shared-weights-'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), bytes);
  const x = new ort.Tensor('float32', new Float32Array(K).fill(1), [1, K]);
  const rows = [{ sessions: 0, ...memoryMb(process.pid) }];
  const made: ort.InferenceSession[] = [];
  for (let s = 1; s <= sessions; s++) {
    const g = new Graph(`session-${s}`);
    const W = g.initializer(w, [K, cols], 'float32', 'W');
    g.output('y', matmul(g.input('x', 'float32', [1, K]), W));
    const file = path.join(dir, `model-${s}.onnx`);
    fs.writeFileSync(
      file,
      g.encode({ external: { minBytes: 1024, place: () => ({ location: 'weights.bin', offset: 0 }) } }),
    );
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: 1,
      extra: { session: { disable_prepacking: '1' } }, // as revmux builds sessions from files
      ...(way === 'memory' ? { externalData: [{ path: 'weights.bin', data: bytes }] } : {}),
    });
    made.push(session);
    if (((await session.run({ x })).y.data as Float32Array)[0] !== -3) throw new Error(`${way}: wrong output`);
    rows.push({ sessions: s, ...memoryMb(process.pid) });
  }
  w.fill(0); // after every session exists
  const readsInPlace = ((await made[0].run({ x })).y.data as Float32Array)[0] === 0;
  fs.rmSync(dir, { recursive: true });
  console.log(JSON.stringify({ way, rows, readsInPlace }));
}

if (opts.child) {
  await child(opts.child as (typeof WAYS)[number]);
} else {
  const self = fileURLToPath(import.meta.url);
  const results = WAYS.map((way) => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', self, '--child', way, '--mb', String(mb), '--sessions', String(sessions)],
      {
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`${way}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      way: string;
      rows: ({ sessions: number } & ReturnType<typeof memoryMb>)[];
      readsInPlace: boolean;
    };
  });
  const outFile = path.join('results', 'shared-weights.json');
  writeTextAtomic(outFile, JSON.stringify({ machine: machine(), weight_mb: mb, results }, null, 2) + '\n');
  console.log(
    table(
      ['weights from', 'sessions', 'RSS MB', 'PSS MB', 'PSS growth per session MB', 'reads the buffer in place'],
      results.flatMap((r) =>
        r.rows.map((row, i) => [
          r.way === 'file' ? 'memory-mapped file' : 'in-memory externalData',
          row.sessions,
          row.rss,
          row.pss,
          i ? round(row.pss - r.rows[i - 1].pss, 0) : '',
          r.way === 'memory' ? String(r.readsInPlace) : '(a file)',
        ]),
      ),
    ),
  );
  console.log(`wrote ${outFile}`);
}
