// Resumable training state: parameters, optimiser moments and the loop's position, written as one
// folder that replaces the previous one atomically (write state.new/, then swap), so an interrupted
// run always finds a complete checkpoint.
import fs from 'node:fs';
import path from 'node:path';
import type { Optimizer } from '../engine/optim.js';
import type { ParamSet } from '../engine/params.js';
import { writeTextAtomic } from '../io/safetensors.js';

export interface LoopState {
  /** Optimiser steps taken. */
  step: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  best: { metric: number; step: number } | null;
  history: Record<string, number>[];
  /**
   * Wall seconds of the loop up to the last checkpoint, summed over every process that ran part of it (a
   * resumed run's own clock sees only its part). Absent in states written before it was kept.
   */
  loopSeconds?: number;
  /** Anything the caller needs to check a resume is compatible (arguments, model). */
  meta: Record<string, unknown>;
}

export class CheckpointDir {
  readonly dir: string;

  constructor(parent: string, name = '.train-state') {
    this.dir = path.join(parent, name);
  }

  exists(): boolean {
    return fs.existsSync(path.join(this.dir, 'state.json'));
  }

  save(params: ParamSet, optimizer: Optimizer, state: LoopState): void {
    const fresh = `${this.dir}.new`;
    const old = `${this.dir}.old`;
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.mkdirSync(fresh, { recursive: true });
    params.save(path.join(fresh, 'params.safetensors'));
    optimizer.save(path.join(fresh, 'optimizer.safetensors'));
    // written last: marks completeness
    writeTextAtomic(path.join(fresh, 'state.json'), JSON.stringify(state, null, 1) + '\n');
    fs.rmSync(old, { recursive: true, force: true });
    if (fs.existsSync(this.dir)) fs.renameSync(this.dir, old);
    fs.renameSync(fresh, this.dir);
    fs.rmSync(old, { recursive: true, force: true });
  }

  /** Restores params and optimiser in place; returns the loop state. */
  load(params: ParamSet, optimizer: Optimizer): LoopState {
    if (!this.exists()) {
      // a crash between the two renames leaves the complete copy in .old or .new
      for (const alt of [`${this.dir}.new`, `${this.dir}.old`])
        if (fs.existsSync(path.join(alt, 'state.json'))) fs.renameSync(alt, this.dir);
    }
    if (!this.exists()) throw new Error(`${this.dir}: no training state to resume from`);
    params.load(path.join(this.dir, 'params.safetensors'));
    optimizer.load(path.join(this.dir, 'optimizer.safetensors'), params);
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'state.json'), 'utf8')) as LoopState;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a loop: from `initial`, or, when `dir` holds a state and `fresh` is off, from that state
 * (params and optimiser restored in place) after checking its settings match. `settings` picks the
 * fields of a state's meta that must agree (default: all of it).
 */
/**
 * What every training run starts from: its parameters, optimiser, checkpoint folder and loop state (fresh or resumed).
 */
export interface RunSetup {
  params: ParamSet;
  optimizer: Optimizer;
  ckpt: CheckpointDir;
  state: LoopState;
}

/** A run writing to `out`: resumes from `out`/.train-state when it holds one with the same settings. */
export function resumableRun(
  out: string,
  params: ParamSet,
  optimizer: Optimizer,
  meta: Record<string, unknown>,
  o: {
    fresh?: boolean;
    log: (s: string) => void;
    settings?: (meta: Record<string, unknown>) => Record<string, unknown>;
  },
): RunSetup {
  const ckpt = new CheckpointDir(out);
  const state = startOrResume(
    ckpt,
    params,
    optimizer,
    { step: 0, epoch: 0, batchInEpoch: 0, best: null, history: [], meta },
    o,
  );
  return { params, optimizer, ckpt, state };
}

export function startOrResume(
  ckpt: CheckpointDir,
  params: ParamSet,
  optimizer: Optimizer,
  initial: LoopState,
  o: {
    fresh?: boolean;
    log: (s: string) => void;
    settings?: (meta: Record<string, unknown>) => Record<string, unknown>;
  },
): LoopState {
  if (o.fresh) {
    ckpt.remove();
    return initial;
  }
  if (!ckpt.exists()) return initial;
  const state = ckpt.load(params, optimizer);
  const pick = o.settings ?? ((m) => m);
  checkResumeCompatible(pick(state.meta), pick(initial.meta), ckpt.dir);
  o.log(`resuming from step ${state.step} (epoch ${state.epoch + 1}, batch ${state.batchInEpoch})`);
  return state;
}

/**
 * Fails with a message naming each differing field when a resume would mix settings. A setting the
 * interrupted run did not record (one added to revmux since) is not compared: it cannot have differed.
 */
export function checkResumeCompatible(
  saved: Record<string, unknown>,
  now: Record<string, unknown>,
  where: string,
): void {
  const diffs = Object.keys({ ...saved, ...now }).filter(
    (k) => k in saved && JSON.stringify(saved[k]) !== JSON.stringify(now[k]),
  );
  if (diffs.length)
    throw new Error(
      `${where}: cannot resume, settings differ from the interrupted run: ` +
        `${diffs.map((k) => `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`).join('; ')} (use ` +
        `--fresh to start over)`,
    );
}

/**
 * Checks, before any work, that `out` is (or can become) a writable folder, so a bad --out fails in
 * a second rather than at the first save after prefill and training. Also removes the temporaries
 * that killed atomic writes left there (`*.tmp-<pid>-*` of processes that are gone).
 */
export function prepareOutDir(out: string): void {
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory())
    throw new Error(`--out ${out}: exists and is not a folder`);
  try {
    fs.mkdirSync(out, { recursive: true });
    const probe = path.join(out, `.write-probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(`--out ${out}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  for (const dir of [out, ...['.train-state', '.train-state.new', '.train-state.old'].map((d) => path.join(out, d))]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      const m = /\.tmp-(\d+)-[a-z0-9]+$/.exec(f);
      if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(dir, f), { force: true });
    }
  }
}

/** Whether a process with this pid exists (ours counts), for files and locks that name their writer. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
