// What the server runs: a frozen backbone with its tokenizer, and one session holding SISO (N = 1) and every
// trained N over one copy of the weights. Classifies a list of already-validated inputs with a given N.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Session, encodeSession, float32 } from '../engine/runtime.js';
import { tokenFeeds } from '../mux/features.js';
import { TASKS, type Task, parseTask } from '../data/glue.js';
import { TextTokenizer } from '../io/tokenizer.js';
import type { Backbone } from '../models/backbone.js';
import { weightsHash } from '../models/hash.js';
import { loadModel } from '../models/load.js';
import { type AdapterConfig, checkAdapterFits, loadAdapter, specOf } from '../mux/adapter.js';
import { fusedServingGraph, partName, servingFeeds } from '../mux/graphs.js';
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
  private session: Session | null = null;
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
    for (const a of adapters) if (a.config.n !== 1) e.adapters.set(a.config.n, { dir: a.dir, config: a.config });
    const parts = adapters.filter((a) => a.config.n !== 1).map((a) => ({ spec: specOf(a.config), params: a.params }));
    // The graph is dropped once encoded and the JavaScript weights (with their transposed or int8 copies)
    // freed before onnxruntime builds the session, which reads them from the weights file. With both resident
    // at once, BERT-base with SISO + N = 2, 4, 8 peaked at 1.8 GB against 1.0 GB after start-up (docs/serving.md).
    const encoded = encodeSession(fusedServingGraph(model, head, parts), { prepack: o.prepackWeights ?? true });
    model.weights.release();
    collectGarbage();
    e.session = await Session.fromEncoded(encoded);
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
    return [1, ...this.adapters.keys()].sort((a, b) => a - b);
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
    if (!this.session || !this.availableN.includes(n)) throw new Error(`no adapter for N = ${n}`);
    // N = 1 is the SISO part ([B, S]); the multiplexed parts take [G, N, S]
    const own = tokenFeeds(this.model, items, n === 1 ? null : n, this.tok.padId);
    const feeds = servingFeeds(own, n, this.availableN);
    const out = partName(n, 'logits');
    const logits = float32((await this.session.run(feeds, [out]))[out]);
    return items.map((_, i) => {
      const [a, b] = [logits[2 * i], logits[2 * i + 1]];
      const m = Math.max(a, b);
      const pb = Math.exp(b - m) / (Math.exp(a - m) + Math.exp(b - m));
      return b > a ? { label: this.labels[1], score: pb } : { label: this.labels[0], score: 1 - pb };
    });
  }
}
