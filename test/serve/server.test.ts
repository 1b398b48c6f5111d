// revmux serve over real HTTP on loopback: labels, no cross-talk between multiplexed slots under
// many concurrent clients, every error status, metrics, and a shutdown that drains.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { type RunningServer, type ServeOptions, startServer } from '../../src/serve/server.js';
import { finetune } from '../../src/train/finetune.js';
import { SHARED_DATA } from '../helpers/shared-data.js';
import { trainMux } from '../../src/train/mux-train.js';
import { SYNTHETIC_BACKBONE, SYNTHETIC_REVMUX } from '../helpers/synthetic-recipe.js';

const POS = 'good great nice happy fun lovely the movie';
const NEG = 'bad awful sad ugly dull terrible the movie';
let backbone = '';
let adapter = '';
const servers: RunningServer[] = [];

async function serve(o: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ model: backbone, adapters: [adapter], port: 0, calibrate: true, ...o });
  servers.push(s);
  return s;
}

const post = (s: RunningServer, body: unknown, raw = false) =>
  fetch(`${s.url}/classify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });

describe('revmux serve', () => {
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-serve-'));
    let tok = path.join(SHARED_DATA, 'tokenizers/bert-base-uncased');
    if (!fs.existsSync(tok)) {
      if (process.env.CI) assert.fail(`CI is set but ${tok} is missing`);
      tok = path.join(dir, 'tok'); // still runs, with the synthetic task's own tokenizer
      fs.mkdirSync(tok);
      fs.writeFileSync(path.join(tok, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    }
    backbone = path.join(dir, 'backbone');
    adapter = path.join(dir, 'adapter');
    // the end-to-end test's recipe: SISO and RevMUX N = 2 both above 0.9 on the synthetic task, every slot
    await finetune({ ...SYNTHETIC_BACKBONE, tokenizer: tok, out: backbone });
    await trainMux({ ...SYNTHETIC_REVMUX, model: backbone, out: adapter });
  });
  after(async () => {
    for (const s of servers) await s.app.close();
  });

  it('is 503 while loading, then 200; /info describes it', async () => {
    const s = await serve();
    assert.equal((await fetch(`${s.url}/health`)).status, 503);
    await s.ready;
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    const info = await (await fetch(`${s.url}/info`)).json();
    assert.deepEqual(info.n_available, [1, 2]);
    assert.equal(info.variant, 'revmux');
    assert.equal(info.limits.max_length_tokens, 64);
    assert.deepEqual(info.labels, ['negative', 'positive']);
  });

  it('classifies known inputs, SISO and multiplexed, with one answer per input', async () => {
    for (const policy of [1, 2] as const) {
      const s = await serve({ policy });
      await s.ready;
      const res = await post(s, { inputs: [POS, NEG, { text: NEG }, POS] });
      assert.equal(res.status, 200);
      const out = (await res.json()) as { label: string; score: number }[];
      assert.deepEqual(
        out.map((x) => x.label),
        ['positive', 'negative', 'negative', 'positive'],
        `policy N = ${policy}`,
      );
      assert.ok(out.every((x) => x.score > 0.5 && x.score <= 1));
      const single = await (await post(s, { inputs: POS })).json();
      assert.equal(single.length, 1);
    }
  });

  it('many concurrent clients each get their own answer (no cross-talk between slots)', async () => {
    const s = await serve({ policy: 2, maxDelayMs: 20 });
    await s.ready;
    const clients = Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? NEG : POS));
    const answers = await Promise.all(clients.map((text) => post(s, { inputs: text }).then((r) => r.json())));
    answers.forEach((a, i) => assert.equal(a[0].label, clients[i] === POS ? 'positive' : 'negative', `client ${i}`));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /revmux_classified_total\{n="2"\} \d+/);
    assert.match(metrics, /revmux_requests_total\{status="200"\} 48/);
    assert.match(metrics, /revmux_mux_fill_ratio_count \d+/);
    assert.match(metrics, /revmux_queue_seconds_bucket/);
  });

  it('the adaptive policy serves a lone request with SISO', async () => {
    const s = await serve({ policy: 'adaptive' });
    await s.ready;
    await post(s, { inputs: POS });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /revmux_classified_total\{n="1"\} 1/);
    // the policy, with capacities set by hand (on this tiny model SISO really is the fastest width):
    const b = s.batcher()!;
    b.capacity.set(1, 100);
    b.capacity.set(2, 180);
    assert.equal(b.chooseN(64, 10), 1, 'demand 50/s: SISO keeps up'); // 10 queued within 200 ms
    assert.equal(b.chooseN(64, 30), 2, 'demand 150/s: N = 2 keeps up, SISO does not');
    assert.equal(b.chooseN(64, 1000), 2, 'demand beyond every width: the fastest one');
    assert.equal(b.chooseN(1, 1000), 1, 'a single input is never multiplexed');
  });

  it('answers every error status with a message naming the problem', async () => {
    const s = await serve({ maxQueue: 4, maxInputsPerRequest: 6 });
    await s.ready;
    let r = await post(s, '{"inputs": [', true);
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /malformed request body/);
    r = await post(s, { input: 'x' });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /missing field "inputs"/);
    r = await post(s, { inputs: ['fine', 3] });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /inputs\[1\] must be a string/);
    r = await post(s, { inputs: [{ text: 'a', text_pair: 5 }] });
    assert.match((await r.json()).error, /inputs\[0\]\.text_pair must be a string/);
    r = await post(s, { inputs: new Array(7).fill('good') });
    assert.equal(r.status, 413);
    assert.match((await r.json()).error, /7 items; the limit is 6/);
    r = await post(s, { inputs: ['good', new Array(80).fill('good').join(' ')] });
    assert.equal(r.status, 413);
    assert.match((await r.json()).error, /inputs\[1\] has 82 tokens; the limit is 64/);
    r = await post(s, { inputs: new Array(5).fill('good') });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // the good request next to them is unaffected
    assert.equal((await (await post(s, { inputs: 'good' })).json())[0].label, 'positive');

    const slow = await serve({ maxConcurrent: 1, maxDelayMs: 300, maxBatch: 64 });
    await slow.ready;
    const first = post(slow, { inputs: POS });
    await new Promise((res) => setTimeout(res, 50));
    const second = await post(slow, { inputs: POS });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal((await first).status, 200);

    const late = await serve({ timeoutMs: 5, maxDelayMs: 200 });
    await late.ready;
    r = await post(late, { inputs: POS });
    assert.equal(r.status, 504);
    assert.match((await r.json()).error, /not served within 5 ms/);
    assert.match(await (await fetch(`${late.url}/metrics`)).text(), /revmux_rejections_total\{reason="timeout"\} 1/);
  });

  it('shutdown finishes queued and in-flight requests, then refuses', async () => {
    const s = await serve({ maxDelayMs: 100 });
    await s.ready;
    const inflight = Array.from({ length: 10 }, () => post(s, { inputs: [POS, NEG] }));
    const until = Date.now() + 2000; // all received (the first batch waits 100 ms for more)
    while (s.batcher()!.queued < 20 && Date.now() < until) await new Promise((res) => setTimeout(res, 2));
    const done = s.shutdown();
    const statuses = await Promise.all(inflight.map((p) => p.then((r) => r.status)));
    await done;
    assert.deepEqual(statuses, new Array(10).fill(200));
    await assert.rejects(fetch(`${s.url}/health`));
  });

  it('keep-alive clients see answers or 503 during a shutdown, never a reset connection', async () => {
    const s = await serve({ maxDelayMs: 20 });
    await s.ready;
    const outcomes: string[] = [];
    let stopping = false;
    // closed-loop keep-alive clients (fetch reuses connections); each stops at its first non-200
    const clients = Array.from({ length: 12 }, async () => {
      for (let i = 0; i < 400; i++) {
        try {
          const r = await post(s, { inputs: POS });
          await r.arrayBuffer();
          if (r.status !== 200 || stopping) return outcomes.push(String(r.status));
        } catch (e) {
          return outcomes.push((e as { cause?: { code?: string } }).cause?.code ?? 'network error');
        }
      }
      return outcomes.push('unfinished');
    });
    await new Promise((res) => setTimeout(res, 300));
    stopping = true;
    await s.shutdown();
    await Promise.all(clients);
    // refused is a fresh connection after close (the server is gone), not a dropped one
    for (const o of outcomes)
      assert.ok(
        ['200', '503', 'ECONNREFUSED'].includes(o),
        `a client ended with ${o} (outcomes: ${outcomes.join(', ')})`,
      );
  });

  it('holds against hostile input: huge and invisible texts, oversized bodies, slow and aborted senders', async () => {
    const s = await serve({ requestTimeoutMs: 600 });
    await s.ready;
    let r = await post(s, { inputs: ['good', 'x'.repeat(1_000_000)] });
    assert.equal(r.status, 413);
    assert.match(
      (await r.json()).error,
      /inputs\[1\] has 1000000 characters, more than the 64-token limit allows \(4096 characters\)/,
    );
    r = await post(s, { inputs: ['\u200b\u200b\u2060 '] });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /inputs\[0\] is empty \(or only whitespace and invisible characters\)/);
    const { hostname, port } = new URL(s.url);
    const rawRequest = (body: (sock: net.Socket) => void, length = 100) =>
      new Promise<string>((resolve) => {
        const sock = net.connect(Number(port), hostname);
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', (e) => resolve(got + `[error ${e.message}]`));
        sock.write(
          'POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${length}\r\n\r\n{"in`,
        );
        body(sock);
      });
    // a 50 MB body sent whole, without Expect: 100-continue: the client reads a 413, not a reset
    const big = 50 * 1024 * 1024;
    const refused = await rawRequest((sock) => {
      const chunk = Buffer.alloc(1 << 16, 0x61);
      let left = big - 4;
      const pump = () => {
        while (left > 0 && !sock.destroyed) {
          left -= chunk.length;
          if (!sock.write(left >= 0 ? chunk : chunk.subarray(0, chunk.length + left)))
            return void sock.once('drain', pump);
        }
      };
      pump();
    }, big);
    assert.match(refused, /^HTTP\/1\.1 413/, `got: ${refused.slice(0, 120)}`);
    assert.match(refused, /request body is over the 4194304-byte limit/);

    // one byte every 200 ms, for at most 30 bytes: the server answers 408 and closes long before
    let sent = 0;
    const timer = setInterval(() => undefined, 1000);
    const answer = await rawRequest((sock) => {
      const drip = setInterval(() => {
        if (sock.destroyed || ++sent > 30) return clearInterval(drip), sock.destroy();
        sock.write(' ');
      }, 200);
    });
    clearInterval(timer);
    assert.match(answer, /^HTTP\/1\.1 408/, `a slow sender gets 408 (after ${sent} bytes)`);
    assert.ok(sent < 30, 'the server closed the connection, not the client');
    // a client that goes away mid-body is counted as aborted, not as a bad request
    await rawRequest((sock) => setTimeout(() => sock.destroy(), 50));
    let metrics = '';
    for (let i = 0; i < 40 && !/status="aborted"/.test(metrics); i++) {
      await new Promise((res) => setTimeout(res, 50));
      metrics = await (await fetch(`${s.url}/metrics`)).text();
    }
    assert.match(metrics, /revmux_requests_total\{status="aborted"\} 1/);
    assert.match(metrics, /revmux_requests_total\{status="408"\} 1/);
    assert.match(metrics, /revmux_requests_total\{status="400"\} 1/, 'only the invisible text was a bad request');
  });

  it('with an API key, answers only requests that carry it (health stays open)', async () => {
    const s = await serve({ apiKey: 'sekret-token', calibrate: false });
    await s.ready;
    const body = JSON.stringify({ inputs: POS });
    let r = await fetch(`${s.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    r = await fetch(`${s.url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sekret-tokeN' },
      body,
    });
    assert.equal(r.status, 401);
    r = await fetch(`${s.url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sekret-token' },
      body,
    });
    assert.equal(r.status, 200);
    assert.equal((await fetch(`${s.url}/info`)).status, 401);
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
  });

  it('a start-up that fails exits non-zero with the reason, so a supervisor sees it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-serve-bad-'));
    const noTokenizer = path.join(dir, 'model');
    fs.mkdirSync(noTokenizer);
    for (const f of ['config.json', 'model.safetensors'])
      fs.copyFileSync(path.join(backbone, f), path.join(noTokenizer, f));
    const cases: [string[], RegExp][] = [
      [['--model', backbone, '--adapter', path.join(dir, 'missing-adapter')], /start-up failed: .*missing-adapter/],
      [['--model', noTokenizer], /start-up failed: .*tokenizer\.json/],
      [
        ['--model', backbone, '--adapter', adapter, '--policy', '3'],
        /start-up failed: policy N = 3: no adapter for N = 3 was loaded \(available N: 1, 2\)/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['serve', '--port', '0', ...args], 120_000);
      assert.equal(r.code, 1, `exit code for ${args.join(' ')} (stderr: ${r.stderr})`);
      assert.match(r.stderr, message);
    }
  });
});

/** Runs the revmux binary; resolves with its exit code and stderr, or fails the test after `ms`. */
function runCli(args: string[], ms: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('bin/revmux.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`revmux ${args.join(' ')} still running after ${ms} ms (stderr: ${stderr})`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
