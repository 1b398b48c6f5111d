// What the server runs: a frozen backbone with its tokenizer, SISO (N = 1) and one fused session
// per trained N. Classifies a list of already-validated inputs with a given N.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type Session, compile, float32 } from '../engine/runtime.js';
import { tokenFeeds } from '../mux/features.js';
import { TASKS, type Task, parseTask } from '../data/glue.js';
import { TextTokenizer } from '../io/tokenizer.js';
import type { Backbone } from '../models/backbone.js';
import { weightsHash } from '../models/hash.js';
import { loadModel } from '../models/load.js';
import { type AdapterConfig, checkAdapterFits, loadAdapter, specOf } from '../mux/adapter.js';
import { fusedMuxGraph, fusedSisoGraph } from '../mux/graphs.js';
import type { MuxHead } from '../mux/heads.js';
import { dims } from '../models/registry.js';
import type { Precision } from '../nn/precision.js';

export interface ClassifyInput {
  text: string;
  textPair?: string;
}

export interface Encoded {
  ids: number[];
  typeIds: number[];
}

export interface Prediction {
  label: string;
  score: number;
}

/**
 * Runs V8's garbage collector now: the JavaScript weights (and their transposed or int8 copies) are
 * garbage once the sessions exist, but V8 would keep them resident until its heap grows again.
 */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

export class ServeEngine {
  readonly sessions = new Map<number, Session>();
  readonly adapters = new Map<number, { dir: string; config: AdapterConfig }>();

  private constructor(
    readonly model: Backbone,
    readonly modelDir: string,
    readonly tok: TextTokenizer,
    readonly task: Task,
    readonly head: MuxHead,
    readonly maxLength: number,
    readonly labels: [string, string],
  ) {}

  /** Loads the backbone, its tokenizer and adapters (one per N; all must share l and the task). */
  static async load(
    modelDir: string,
    adapterDirs: string[],
    o: { maxLength?: number; task?: string; precision?: Precision; prepackWeights?: boolean } = {},
  ): Promise<ServeEngine> {
    const model = loadModel(modelDir, { precision: o.precision });
    if (!fs.existsSync(path.join(modelDir, 'tokenizer.json')))
      throw new Error(`${modelDir}: no tokenizer.json; the server tokenises requests itself`);
    const tok = TextTokenizer.load(modelDir);
    const adapters = adapterDirs.map((dir) => ({ dir, ...loadAdapter(dir) }));
    const task = parseTask(o.task ?? adapters[0]?.config.task ?? 'sst2');
    const hash = adapters.length ? weightsHash(model.weights) : undefined;
    for (const a of adapters) {
      checkAdapterFits(a.config, model, {}, a.dir, hash);
      if (a.config.task !== task)
        throw new Error(`${a.dir}: trained for task ${a.config.task}, the server runs ${task}`);
    }
    const ns = adapters.map((a) => a.config.n);
    if (new Set(ns).size !== ns.length)
      throw new Error(`two adapters with the same N (${ns.join(', ')}): give one per N`);
    const labelIds = adapters[0]?.config.label_ids ?? undefined;
    const head = model.taskHead({ labelIds: labelIds ?? null, tokenizer: tok });
    const e = new ServeEngine(
      model,
      modelDir,
      tok,
      task,
      head,
      Math.min(o.maxLength ?? 128, dims(model.config).maxPositions),
      TASKS[task].labelWords,
    );
    const sessionOptions = o.prepackWeights ? { prepack: true } : {};
    e.sessions.set(1, await compile(fusedSisoGraph(model, head), sessionOptions));
    for (const a of adapters) {
      if (a.config.n === 1) continue;
      e.adapters.set(a.config.n, { dir: a.dir, config: a.config });
      e.sessions.set(a.config.n, await compile(fusedMuxGraph(model, head, specOf(a.config), a.params), sessionOptions));
    }
    model.weights.release(); // the sessions read the weights from the shared weights file; none stay in JavaScript
    collectGarbage();
    return e;
  }

  /** Characters per input above which it is refused without tokenising. */
  get maxChars(): number {
    return this.maxLength * 64;
  }

  /** How the frozen backbone's Linear layers run. */
  get precision(): Precision {
    return this.model.weights.precision;
  }

  get availableN(): number[] {
    return [...this.sessions.keys()].sort((a, b) => a - b);
  }

  /**
   * Tokenises one input, or says why not: over the token limit, or so many characters that it must
   * be (a token covers at least one character in practice; 64 per token is far beyond any real text),
   * refused before tokenising so a huge text cannot block the event loop.
   */
  encode(x: ClassifyInput): { ok: true; enc: Encoded } | { ok: false; tokens?: number; chars?: number } {
    const chars = x.text.length + (x.textPair?.length ?? 0);
    if (chars > this.maxChars) return { ok: false, chars };
    const ex = this.model.formatExample(this.task, { textA: x.text, textB: x.textPair, label: 0 });
    const enc = this.tok.encode(ex.textA, ex.textB ?? null, { maxLength: 1_000_000 });
    if (enc.ids.length > this.maxLength) return { ok: false, tokens: enc.ids.length };
    return { ok: true, enc: { ids: enc.ids, typeIds: enc.typeIds } };
  }

  /** Classifies inputs with N instances per row (N = 1: SISO); the last row may hold dummy slots. */
  async classify(items: Encoded[], n: number): Promise<Prediction[]> {
    const session = this.sessions.get(n);
    if (!session) throw new Error(`no adapter for N = ${n}`);
    // N = 1 is the SISO session ([B, S]); the multiplexed sessions take [G, N, S]
    const feeds = tokenFeeds(this.model, items, n === 1 ? null : n, this.tok.padId);
    const logits = float32((await session.run(feeds, ['logits'])).logits);
    return items.map((_, i) => {
      const [a, b] = [logits[2 * i], logits[2 * i + 1]];
      const m = Math.max(a, b);
      const pb = Math.exp(b - m) / (Math.exp(a - m) + Math.exp(b - m));
      return b > a ? { label: this.labels[1], score: pb } : { label: this.labels[0], score: 1 - pb };
    });
  }
}
