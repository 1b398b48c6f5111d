// A load generator for a revmux server on this machine: closed loop (C clients, each sending its
// next request when the previous answer arrives) or open loop (requests at a fixed rate whatever
// the answers do). Bounded in count and time; reports throughput and latency percentiles.

export interface LoadResult {
  mode: 'closed' | 'open';
  concurrency?: number;
  rate?: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  seconds: number;
  inputs_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

const pct = (xs: number[], q: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function one(url: string, text: string, lat: number[], errors: Record<string, number>): Promise<boolean> {
  const t = performance.now();
  try {
    const res = await fetch(`${url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: text }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) {
      errors[res.status] = (errors[res.status] ?? 0) + 1;
      return false;
    }
    lat.push(performance.now() - t);
    return true;
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code ?? 'network';
    errors[code] = (errors[code] ?? 0) + 1;
    return false;
  }
}

function summarize(
  mode: 'closed' | 'open',
  lat: number[],
  errors: Record<string, number>,
  sent: number,
  seconds: number,
  extra: Partial<LoadResult>,
): LoadResult {
  return {
    mode,
    ...extra,
    requests: sent,
    ok: lat.length,
    errors,
    seconds,
    inputs_per_s: lat.length / seconds,
    p50_ms: pct(lat, 0.5),
    p95_ms: pct(lat, 0.95),
    p99_ms: pct(lat, 0.99),
  };
}

export async function closedLoop(
  url: string,
  texts: string[],
  concurrency: number,
  seconds: number,
  maxRequests = 100_000,
): Promise<LoadResult> {
  const lat: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      let i = c;
      while (performance.now() < end && sent < maxRequests) {
        sent++;
        await one(url, texts[i % texts.length], lat, errors);
        i += concurrency;
      }
    }),
  );
  return summarize('closed', lat, errors, sent, (performance.now() - t0) / 1000, { concurrency });
}

export async function openLoop(url: string, texts: string[], rate: number, seconds: number): Promise<LoadResult> {
  const lat: number[] = [];
  const errors: Record<string, number> = {};
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const pending: Promise<boolean>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(one(url, texts[i % texts.length], lat, errors));
  }
  await Promise.all(pending);
  return summarize('open', lat, errors, total, (performance.now() - t0) / 1000, { rate });
}
