// Optimisers over ParamSets, gradient clipping and learning-rate schedules.
//
// Updates run in plain JS loops over Float32Arrays: for the adapter-sized parameter sets RevMUX
// trains this is a small fraction of a step. State (moments, step) saves to safetensors so an
// interrupted run resumes exactly.
import type { ParamSet } from './params.js';
import { SafetensorsFile, writeSafetensors } from '../io/safetensors.js';

export type Grads = ReadonlyMap<string, Float32Array> | Record<string, Float32Array>;

function gradOf(grads: Grads, name: string): Float32Array | undefined {
  return grads instanceof Map ? grads.get(name) : (grads as Record<string, Float32Array>)[name];
}

function gradList(params: ParamSet, grads: Grads): [string, Float32Array][] {
  return params.names().flatMap((n) => {
    const g = gradOf(grads, n);
    return g ? [[n, g] as [string, Float32Array]] : [];
  });
}

/** Global L2 norm of all gradients. */
export function globalNorm(grads: Iterable<Float32Array>): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Scales all gradients in place so their global norm is at most maxNorm; returns the norm before. */
export function clipGlobalNorm(grads: Iterable<Float32Array>, maxNorm: number): number {
  const list = [...grads];
  const norm = globalNorm(list);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6); // same epsilon as torch.nn.utils.clip_grad_norm_
    for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}

// ------------------------------------------------------------------ schedules

/** Learning rate as a function of the 0-based step about to be taken. */
export type Schedule = (step: number) => number;

export const constantSchedule =
  (lr: number): Schedule =>
  () =>
    lr;

/**
 * Linear warm-up from 0 to `peak` over `warmup` steps, then linear decay to `end` at `total` (as HF's
 * get_linear_schedule_with_warmup).
 */
export function linearWarmupDecay(peak: number, warmup: number, total: number, end = 0): Schedule {
  return (step) => {
    if (step < warmup) return (peak * step) / Math.max(1, warmup);
    const frac = Math.max(0, (total - step) / Math.max(1, total - warmup));
    return end + (peak - end) * frac;
  };
}

// ------------------------------------------------------------------ optimisers

export interface Optimizer {
  /** Applies one update with learning rate `lr`. Parameters without a gradient are left alone. */
  step(params: ParamSet, grads: Grads, lr: number): void;
  /** Number of updates taken so far. */
  readonly steps: number;
  save(file: string): void;
  load(file: string, params: ParamSet): void;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW); default 0.01. */
  weightDecay?: number;
  /** Parameters excluded from weight decay (biases, norms), decided by name. */
  noDecay?: (name: string) => boolean;
  /**
   * Scale each tensor's step by its RMS (at least 1e-3), as Adafactor's relative step does (nanoT5's
   * AdamWScale): for initialisations whose scales differ by orders of magnitude, like T5's. Default false.
   */
  scaleByRms?: boolean;
}

function rms(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / x.length);
}

/** AdamW (Loshchilov & Hutter) with bias correction, numerically as torch.optim.AdamW. */
export class AdamW implements Optimizer {
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  steps = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly scaleByRms: boolean;
  private readonly noDecay: (name: string) => boolean;

  constructor(o: AdamWOptions = {}) {
    this.scaleByRms = o.scaleByRms ?? false;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
    this.noDecay = o.noDecay ?? (() => false);
  }

  step(params: ParamSet, grads: Grads, lr: number): void {
    this.steps++;
    const { beta1: b1, beta2: b2, eps } = this;
    const bc1 = 1 - b1 ** this.steps;
    const bc2 = 1 - b2 ** this.steps;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (const [name, g] of gradList(params, grads)) {
      const p = params.get(name).data;
      if (g.length !== p.length)
        throw new Error(`AdamW: gradient of '${name}' has ${g.length} values, parameter ${p.length}`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const decay = this.noDecay(name) ? 1 : 1 - lr * this.weightDecay;
      const size = this.scaleByRms ? stepSize * Math.max(1e-3, rms(p)) : stepSize;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        p[i] = p[i] * decay - (size * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
      }
    }
  }

  save(file: string): void {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [n, m] of this.m) tensors[`m.${n}`] = { shape: [m.length], data: m };
    for (const [n, v] of this.v) tensors[`v.${n}`] = { shape: [v.length], data: v };
    writeSafetensors(file, tensors, {
      optimizer: 'adamw',
      steps: String(this.steps),
      hyper: JSON.stringify({
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        ...(this.scaleByRms ? { scaleByRms: true } : {}),
      }),
    });
  }

  load(file: string, params: ParamSet): void {
    const st = SafetensorsFile.open(file);
    try {
      if (st.metadata.optimizer !== 'adamw')
        throw new Error(`${file}: not an AdamW state (optimizer = ${st.metadata.optimizer ?? 'unset'})`);
      this.steps = Number(st.metadata.steps);
      this.m.clear();
      this.v.clear();
      for (const name of st.names()) {
        const [kind, ...rest] = name.split('.');
        const pname = rest.join('.');
        if (!params.has(pname)) throw new Error(`${file}: state for unknown parameter '${pname}'`);
        const data = st.readFloat32(name);
        if (data.length !== params.get(pname).data.length)
          throw new Error(
            `${file}: state '${name}' has ${data.length} values, parameter has ${params.get(pname).data.length}`,
          );
        (kind === 'm' ? this.m : this.v).set(pname, data);
      }
    } finally {
      st.close();
    }
  }
}

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
}

/** SGD with optional momentum and L2 weight decay, as torch.optim.SGD (dampening 0, no Nesterov). */
export class SGD implements Optimizer {
  private buf = new Map<string, Float32Array>();
  steps = 0;

  constructor(private readonly o: SgdOptions = {}) {}

  step(params: ParamSet, grads: Grads, lr: number): void {
    this.steps++;
    const mu = this.o.momentum ?? 0;
    const wd = this.o.weightDecay ?? 0;
    for (const [name, g] of gradList(params, grads)) {
      const p = params.get(name).data;
      let b = this.buf.get(name);
      // torch starts the momentum buffer at the first gradient, not at zero
      const fresh = mu !== 0 && !b;
      if (fresh) this.buf.set(name, (b = new Float32Array(p.length)));
      for (let i = 0; i < p.length; i++) {
        let d = g[i] + wd * p[i];
        if (b) d = b[i] = fresh ? d : mu * b[i] + d;
        p[i] -= lr * d;
      }
    }
  }

  save(file: string): void {
    writeSafetensors(
      file,
      Object.fromEntries([...this.buf].map(([n, b]) => [`momentum.${n}`, { shape: [b.length], data: b }])),
      { optimizer: 'sgd', steps: String(this.steps), hyper: JSON.stringify(this.o) },
    );
  }

  load(file: string, params: ParamSet): void {
    const st = SafetensorsFile.open(file);
    try {
      if (st.metadata.optimizer !== 'sgd')
        throw new Error(`${file}: not an SGD state (optimizer = ${st.metadata.optimizer ?? 'unset'})`);
      this.steps = Number(st.metadata.steps);
      this.buf.clear();
      for (const name of st.names()) {
        const pname = name.slice('momentum.'.length);
        if (!params.has(pname)) throw new Error(`${file}: state for unknown parameter '${pname}'`);
        this.buf.set(pname, st.readFloat32(name));
      }
    } finally {
      st.close();
    }
  }
}
