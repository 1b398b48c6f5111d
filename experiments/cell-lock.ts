// A lock file per grid cell (issue #13): runners started side by side on one grid, one per core, each
// take the cells nobody else is running.
import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from '../src/train/checkpoint.js';

/**
 * Takes a cell for this process, or says who has it: runners started side by side on one grid (one per
 * core) must not train one cell into one folder. A lock whose process is gone is taken over (the cell's
 * training state resumes).
 */
export function claimCell(out: string): { release: () => void } | { holder: number } {
  const lock = `${out}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return { release: () => fs.rmSync(lock, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: number;
    try {
      holder = Number(fs.readFileSync(lock, 'utf8')); // 0 while its writer is between create and write
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw e;
    }
    if (processAlive(holder)) return { holder };
    fs.rmSync(lock, { force: true });
  }
}
