// `revmux serve`: an HTTP server that batches concurrent requests and multiplexes them.
//   POST /classify {"inputs": "text" | ["text", {"text": ..., "text_pair": ...}, ...]} -> [{label, score}, ...]
//   GET /health (503 while loading or draining, else 200), GET /info, GET /metrics (Prometheus text)
// Bad requests are refused before they reach a batch (400 naming the field, 413 with the token
// limit), so one bad request never affects the others it would have been batched with.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Batcher, type BatcherOptions, QueueFullError, TimeoutError } from './batcher.js';
import { type ClassifyInput, type Encoded, type Prediction, ServeEngine } from './engine.js';
import { ServerMetrics } from './metrics.js';
import type { Precision } from '../nn/precision.js';

export interface ServeOptions extends Partial<BatcherOptions> {
  model: string;
  adapters: string[];
  task?: string;
  host?: string; // 127.0.0.1
  port?: number; // 8080 (0 = any free port)
  maxLength?: number; // 128 tokens per input
  precision?: Precision; // fp32
  /** Prepacked weights in the serving session (default true; SessionOptions.prepack). */
  prepackWeights?: boolean;
  maxInputsPerRequest?: number; // 256
  maxConcurrent?: number; // 256 requests in flight
  timeoutMs?: number; // 30000
  /** Skip the calibration run (tests). */
  calibrate?: boolean;
  /** Bearer token that /classify, /info and /metrics require (compared in constant time); /health stays open. */
  apiKey?: string;
  /** Time allowed to receive a whole request, headers and body (408 after it); default 10000. */
  requestTimeoutMs?: number;
  /** On shutdown, how long draining answers 503 (connection: close) before connections close; default 250. */
  drainGraceMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  ready: Promise<void>;
  /** Stops accepting, finishes what is queued and in flight, then closes. */
  shutdown(): Promise<void>;
  batcher(): Batcher | null;
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Nothing a tokenizer would keep: whitespace, and format characters such as zero-width spaces (Unicode Cf). */
const blank = (text: string) => !text.replace(/[\s\p{Cf}]/gu, '');

/** Constant-time comparison of a request's bearer token with the key (hashes make the lengths equal). */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m ? m[1] : ''), digest(key)) && !!m;
}

/** The request body as a list of inputs, or a 400 naming the offending field. */
export function parseInputs(body: unknown, maxInputs: number): ClassifyInput[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequest(400, 'the body must be a JSON object with an "inputs" field');
  const inputs = (body as { inputs?: unknown }).inputs;
  if (inputs === undefined) throw new BadRequest(400, 'missing field "inputs"');
  const list = typeof inputs === 'string' ? [inputs] : inputs;
  if (!Array.isArray(list)) throw new BadRequest(400, '"inputs" must be a string or an array');
  if (list.length === 0) throw new BadRequest(400, '"inputs" is empty');
  if (list.length > maxInputs)
    throw new BadRequest(413, `"inputs" has ${list.length} items; the limit is ${maxInputs} per request`);
  return list.map((x, i) => {
    if (typeof x === 'string') {
      if (blank(x)) throw new BadRequest(400, `inputs[${i}] is empty (or only whitespace and invisible characters)`);
      return { text: x };
    }
    if (Array.isArray(x) && x.length === 2 && x.every((t) => typeof t === 'string' && !blank(t)))
      return { text: x[0], textPair: x[1] }; // TEI's pair
    if (typeof x !== 'object' || x === null || Array.isArray(x))
      throw new BadRequest(400, `inputs[${i}] must be a string, {"text", "text_pair"} or a pair ["text", "text pair"]`);
    const { text, text_pair: pair } = x as { text?: unknown; text_pair?: unknown };
    if (typeof text !== 'string' || blank(text))
      throw new BadRequest(
        400,
        `inputs[${i}].text must be a non-empty string (not only whitespace and invisible characters)`,
      );
    if (pair !== undefined && typeof pair !== 'string')
      throw new BadRequest(400, `inputs[${i}].text_pair must be a string`);
    return pair === undefined ? { text } : { text, textPair: pair };
  });
}

/**
 * Every label with its score, best first, at most `top_k` of them: what Hugging Face's text-classification
 * endpoints and TEI's /predict answer. Options those clients may send that change the scores are refused.
 */
export function rankedLabels(
  p: Prediction,
  labels: readonly [string, string],
  body: unknown,
): { label: string; score: number }[] {
  const b = body as { parameters?: { top_k?: unknown; function_to_apply?: unknown }; raw_scores?: unknown };
  const fn = b.parameters?.function_to_apply;
  if (fn !== undefined && fn !== 'softmax')
    throw new BadRequest(
      400,
      `parameters.function_to_apply ${JSON.stringify(fn)} is not supported (scores are softmax probabilities)`,
    );
  if (b.raw_scores === true)
    throw new BadRequest(400, 'raw_scores is not supported (scores are softmax probabilities)');
  const topK = b.parameters?.top_k;
  if (topK !== undefined && topK !== null && !(Number.isInteger(topK) && (topK as number) >= 1))
    throw new BadRequest(400, `parameters.top_k must be a positive integer, got ${JSON.stringify(topK)}`);
  const other = p.label === labels[0] ? labels[1] : labels[0];
  return [p, { label: other, score: 1 - p.score }]
    .slice(0, (topK as number | undefined) ?? 2)
    .map((x) => ({ label: x.label, score: x.score }));
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const metrics = new ServerMetrics();
  const bodyLimit = 4 * 1024 * 1024;
  // requestTimeout: a slow sender (one byte every few seconds) is cut off with 408. Given to Node's
  // createServer too, which also lowers headersTimeout to it (set after creation, as fastify does, it
  // leaves headersTimeout at 60 s, which then governs), with a check interval of at most 1 s, not 30.
  const requestTimeout = o.requestTimeoutMs ?? 10_000;
  const app = Fastify({
    logger: false,
    bodyLimit,
    requestTimeout,
    http: { requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout) },
  });
  let engine: ServeEngine | null = null;
  let batcher: Batcher | null = null;
  let loadError: Error | null = null;
  let draining = false;
  let inFlight = 0;
  const maxInputs = o.maxInputsPerRequest ?? 256;
  const maxConcurrent = o.maxConcurrent ?? 256;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const bopts: BatcherOptions = {
    maxBatch: o.maxBatch ?? 64,
    maxDelayMs: o.maxDelayMs ?? 5,
    maxQueue: o.maxQueue ?? 1024,
    buckets: o.buckets ?? [16, 32, 64, 128],
    policy: o.policy ?? 'adaptive',
    targetLatencyMs: o.targetLatencyMs ?? 200,
  };

  const fail = (reply: FastifyReply, status: number, error: string, headers: Record<string, string> = {}) => {
    metrics.requests.inc({ status: String(status) });
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.code(status).send({ error });
  };

  const started = new WeakMap<object, number>(); // request -> arrival, to tell a 408 from a client abort
  app.addHook('onRequest', async (req) => void started.set(req.raw, performance.now()));

  // malformed JSON: fastify's parser error, reported as 400 with our shape
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (req.raw.destroyed || err.code === 'ECONNRESET' || err.message === 'aborted') {
      // no one left to answer: the client went away mid-body, or Node cut it off with a 408
      const age = performance.now() - (started.get(req.raw) ?? performance.now());
      metrics.requests.inc({ status: age >= requestTimeout ? '408' : 'aborted' });
      return reply.hijack();
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Node reads and discards the rest of the body after this answer, so the client sees the 413
      metrics.rejections.inc({ reason: 'body_too_large' });
      return fail(reply, 413, `the request body is over the ${bodyLimit}-byte limit`);
    }
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) console.error(err);
    return fail(reply, status, status === 400 ? `malformed request body: ${err.message}` : err.message);
  });

  if (o.apiKey) {
    const key = o.apiKey;
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/health' || bearerMatches(req.headers.authorization, key)) return;
      metrics.rejections.inc({ reason: 'unauthorized' });
      return fail(reply, 401, 'missing or wrong bearer token (Authorization: Bearer <key>)', {
        'WWW-Authenticate': 'Bearer',
      });
    });
  }
  // while draining, every answer tells keep-alive clients not to send on this connection again
  app.addHook('onSend', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  app.get('/health', async (_req, reply) => {
    if (loadError) return reply.code(500).send({ status: 'failed', error: loadError.message });
    if (draining) return reply.code(503).send({ status: 'draining' });
    if (!engine) return reply.code(503).send({ status: 'loading' });
    return { status: 'ok' };
  });

  app.get('/info', async (_req, reply) => {
    if (!engine) return reply.code(503).send({ status: loadError ? 'failed' : 'loading' });
    const a = [...engine.adapters.values()];
    return {
      model: engine.modelDir,
      model_type: engine.model.modelType,
      precision: engine.precision,
      layers: engine.model.numLayers,
      hidden: engine.model.hiddenSize,
      task: engine.task,
      labels: engine.labels,
      variant: a[0]?.config.variant ?? 'siso',
      l: a[0]?.config.l ?? null,
      n_available: engine.availableN,
      policy: bopts.policy,
      capacity_inputs_per_s: Object.fromEntries(batcher?.capacity ?? []),
      limits: {
        max_length_tokens: engine.maxLength,
        max_inputs_per_request: maxInputs,
        max_concurrent_requests: maxConcurrent,
        max_queue_inputs: bopts.maxQueue,
        timeout_ms: timeoutMs,
        max_batch: bopts.maxBatch,
        max_delay_ms: bopts.maxDelayMs,
        target_latency_ms: bopts.targetLatencyMs,
      },
    };
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  /** The classify handler; `shape` turns the predictions into the answer a route's clients parse. */
  const classifyRoute =
    (shape: (preds: Prediction[], body: unknown) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
      if (draining) return fail(reply, 503, 'the server is shutting down', { 'Retry-After': '5' });
      if (!engine || !batcher)
        return fail(
          reply,
          503,
          loadError ? `model failed to load: ${loadError.message}` : 'the model is still loading',
          { 'Retry-After': '2' },
        );
      if (inFlight >= maxConcurrent) {
        metrics.rejections.inc({ reason: 'concurrency' });
        return fail(reply, 429, `too many concurrent requests (limit ${maxConcurrent})`, { 'Retry-After': '1' });
      }
      inFlight++;
      try {
        const inputs = parseInputs(req.body, maxInputs);
        const encs: Encoded[] = inputs.map((x, i) => {
          const r = engine!.encode(x);
          if (!r.ok && r.chars !== undefined)
            throw new BadRequest(
              413,
              `inputs[${i}] has ${r.chars} characters, more than the ${engine!.maxLength}-token limit allows ` +
                `(${engine!.maxChars} characters)`,
            );
          if (!r.ok)
            throw new BadRequest(413, `inputs[${i}] has ${r.tokens} tokens; the limit is ${engine!.maxLength}`);
          return r.enc;
        });
        const preds = await batcher.submit(encs, timeoutMs);
        const answer = shape(preds, req.body);
        metrics.requests.inc({ status: '200' });
        return answer;
      } catch (e) {
        if (e instanceof BadRequest) {
          metrics.rejections.inc({ reason: e.status === 413 ? 'too_long' : 'bad_request' });
          return fail(reply, e.status, e.message);
        }
        if (e instanceof QueueFullError) {
          metrics.rejections.inc({ reason: 'queue_full' });
          return fail(reply, 429, e.message, { 'Retry-After': String(e.retryAfterS) });
        }
        if (e instanceof TimeoutError) {
          metrics.rejections.inc({ reason: 'timeout' });
          return fail(reply, 504, e.message);
        }
        throw e;
      } finally {
        inFlight--;
      }
    };
  app.post(
    '/classify',
    classifyRoute((preds) => preds),
  );
  // Hugging Face's clients (@huggingface/inference textClassification, Python's InferenceClient) against
  // an endpoint URL: one ranked list per input.
  app.post(
    '/',
    classifyRoute((preds, body) => preds.map((p) => rankedLabels(p, engine!.labels, body))),
  );
  // Text Embeddings Inference's /predict: a single input gets a flat ranked list, a list of inputs one per input.
  app.post(
    '/predict',
    classifyRoute((preds, body) => {
      const ranked = preds.map((p) => rankedLabels(p, engine!.labels, body));
      return typeof (body as { inputs?: unknown }).inputs === 'string' ? ranked[0] : ranked;
    }),
  );

  await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
  const addr = app.server.address();
  const url =
    typeof addr === 'object' && addr
      ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`
      : String(addr);

  const ready = (async () => {
    try {
      const e = await ServeEngine.load(o.model, o.adapters, {
        maxLength: o.maxLength,
        task: o.task,
        precision: o.precision,
        prepackWeights: o.prepackWeights,
      });
      const b = new Batcher(e, bopts, metrics);
      if (o.calibrate ?? true) {
        const sample = e.encode({ text: 'a short sentence used to measure how fast each multiplexing width runs' });
        if (sample.ok) await b.calibrate(sample.enc);
      }
      engine = e;
      batcher = b;
    } catch (err) {
      loadError = err as Error;
      throw err;
    }
  })();
  ready.catch(() => {});

  return {
    app,
    url,
    ready,
    batcher: () => batcher,
    async shutdown() {
      draining = true;
      await batcher?.idle();
      // Keep-alive clients whose last answer came before draining may be sending again right now:
      // answer them 503 with connection: close for a moment, rather than resetting the connections
      // that close() drops as idle.
      await new Promise((res) => setTimeout(res, o.drainGraceMs ?? 250));
      await app.close(); // waits for in-flight responses to be sent
    },
  };
}
