// The x86 SIMD extensions onnxruntime's CPU kernels choose between when a session starts. A speed figure
// needs them beside it: the int8 GEMM runs about 1.6x faster than float32 with AVX2 and much faster with
// AVX-512 VNNI, on CPUs that `os.cpus()` may name alike ("AMD EPYC").
import fs from 'node:fs';
import os from 'node:os';

const KNOWN = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_int8'];

/** The extensions of KNOWN that this CPU reports (Linux /proc/cpuinfo); empty where that cannot be read. */
export function cpuSimd(): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  return KNOWN.filter((f) => flags.has(f));
}

/** What every benchmark JSON says of its CPU: the name `os.cpus()` gives, and the SIMD extensions beside it. */
export function cpuInfo(): { cpu: string; cpu_simd: string[] } {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cpu_simd: cpuSimd() };
}
