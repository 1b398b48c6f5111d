// `revmux serve` and `revmux loadtest`.
import type { Command } from 'commander';
import { findGlueDir, loadExamples, parseTask } from '../data/glue.js';
import {
  PRECISION_HELP,
  intList,
  nonNegativeInt,
  nonNegativeNum,
  positiveInt,
  positiveNum,
  precision,
} from './args.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'HTTP server that batches concurrent /classify requests and multiplexes them (load-adaptive N: SISO for a lone ' +
        'request, multiplexed under load)',
    )
    .requiredOption('--model <dir>', 'the frozen backbone folder (with tokenizer.json)')
    .option('--adapter <dir...>', 'adapter folders, one per N (none: SISO only)', [])
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', nonNegativeInt, 8080)
    .option('--policy <p>', "'adaptive', or a fixed N (1 = SISO)", 'adaptive')
    .option('--max-batch <n>', 'inputs per computed batch', positiveInt, 64)
    .option('--max-delay-ms <ms>', 'how long the oldest queued input waits for a fuller batch', nonNegativeNum, 5)
    .option('--target-latency-ms <ms>', 'adaptive policy: serve the queue within this time', positiveNum, 200)
    .option('--buckets <list>', 'token-length bucket edges', intList, [16, 32, 64, 128])
    .option('--max-length <n>', 'tokens per input; longer inputs get 413', positiveInt, 128)
    .option('--precision <p>', PRECISION_HELP, precision, 'fp32')
    .option(
      '--no-prepack-weights',
      "read the serving session's weights in place from the mapped weights file instead of onnxruntime's packed " +
        'GEMM layout: at BERT-base 2-11% slower, a peak up to 10% lower, up to 15% more memory after start-up ' +
        '(docs/serving.md)',
    )
    .option('--max-inputs <n>', 'inputs per request', positiveInt, 256)
    .option('--max-concurrent <n>', 'requests in flight; more get 429', positiveInt, 256)
    .option('--max-queue <n>', 'queued inputs; more get 429', positiveInt, 1024)
    .option('--timeout-ms <ms>', 'per-request timeout (504)', positiveInt, 30000)
    .option(
      '--api-key <key>',
      'require "Authorization: Bearer <key>" on /classify, /info and /metrics (default: $REVMUX_API_KEY; /health ' +
        'stays open)',
    )
    .option('--request-timeout-ms <ms>', 'time allowed to receive a whole request (408 after it)', positiveInt, 10000)
    .action(async (o) => {
      const { startServer } = await import('../serve/server.js');
      const apiKey: string | undefined = o.apiKey ?? (process.env.REVMUX_API_KEY || undefined);
      if (!LOOPBACK.test(o.host) && !apiKey)
        console.error(
          `revmux serve: warning: listening on ${o.host}, beyond this machine, with no --api-key: anyone who can ` +
            `reach it can use it`,
        );
      const policy = o.policy === 'adaptive' ? 'adaptive' : Number(o.policy);
      if (policy !== 'adaptive' && !(Number.isInteger(policy) && policy >= 1))
        throw new Error(`--policy must be 'adaptive' or a positive integer, got '${o.policy}'`);
      const s = await startServer({
        model: o.model,
        adapters: o.adapter,
        host: o.host,
        port: o.port,
        policy,
        maxBatch: o.maxBatch,
        maxDelayMs: o.maxDelayMs,
        targetLatencyMs: o.targetLatencyMs,
        buckets: o.buckets,
        maxLength: o.maxLength,
        precision: o.precision,
        prepackWeights: o.prepackWeights,
        maxInputsPerRequest: o.maxInputs,
        maxConcurrent: o.maxConcurrent,
        maxQueue: o.maxQueue,
        timeoutMs: o.timeoutMs,
        apiKey,
        requestTimeoutMs: o.requestTimeoutMs,
      });
      console.error(`revmux serve: listening on ${s.url} (loading the model; GET /health says 200 when ready)`);
      try {
        await s.ready;
      } catch (e) {
        // a supervisor must see a failed start-up: stop listening and exit non-zero (main sets the code)
        await s.app.close();
        throw new Error(`serve: start-up failed: ${(e as Error).message}`);
      }
      console.error(
        `revmux serve: ready, N = ` +
          (s.batcher()?.capacity
            ? [...s.batcher()!.capacity.entries()].map(([n, c]) => `${n} (${c.toFixed(0)} inputs/s)`).join(', ')
            : '1'),
      );
      const stop = async (sig: string) => {
        console.error(`revmux serve: ${sig}, finishing queued and in-flight requests`);
        await s.shutdown();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('loadtest')
    .description(
      'load a revmux server on this machine: closed loop over concurrency levels, or open loop at a rate; throughput ' +
        'and p50/p95/p99 latency',
    )
    .requiredOption('--url <url>', 'server address, e.g. http://127.0.0.1:8080 (loopback only)')
    .option('--concurrency <list>', 'closed-loop client counts', intList, [1, 4, 16, 64])
    .option('--rate <r>', 'open loop instead: requests per second', positiveNum)
    .option('--seconds <s>', 'duration of each level', positiveNum, 10)
    .option('--task <name>', 'texts from this GLUE dev set (or synthetic)', 'sst2')
    .action(async (o) => {
      const { closedLoop, openLoop } = await import('../serve/loadtest.js');
      const host = new URL(o.url).hostname;
      if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host) && !host.startsWith('127.'))
        throw new Error(`loadtest only targets this machine (loopback), not ${host}`);
      const texts = loadExamples(parseTask(o.task), 'dev', findGlueDir()).map((e) => e.textA);
      const results = o.rate ? [await openLoop(o.url, texts, o.rate, o.seconds)] : [];
      if (!o.rate)
        for (const c of o.concurrency as number[]) results.push(await closedLoop(o.url, texts, c, o.seconds));
      console.log('| mode | concurrency / rate | requests | ok | inputs/s | p50 ms | p95 ms | p99 ms | errors |');
      console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const r of results)
        console.log(
          `| ${r.mode} | ${r.concurrency ?? r.rate} | ${r.requests} | ${r.ok} | ${r.inputs_per_s.toFixed(1)} | ` +
            `${r.p50_ms.toFixed(1)} | ${r.p95_ms.toFixed(1)} | ${r.p99_ms.toFixed(1)} | ${JSON.stringify(r.errors)} |`,
        );
      console.log(JSON.stringify(results, null, 2));
    });
}
