import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WeightStore, writeWeights } from '../../src/io/checkpoint.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/half.js';
import { Rng } from '../../src/engine/random.js';
import { sharedData } from '../helpers/shared-data.js';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from '../../src/io/safetensors.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-st-'));

/** A raw safetensors file from a header object and a data section, for malformed cases. */
function rawFile(dir: string, header: unknown, data: Buffer, lengthOverride?: bigint): string {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(h.length));
  const f = path.join(dir, 'bad.safetensors');
  fs.writeFileSync(f, Buffer.concat([len, h, data]));
  return f;
}

describe('safetensors', () => {
  it('round-trips every dtype and the metadata', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.safetensors');
    const f32 = Float32Array.of(1.5, -2.25, 3e-5, 65504, 0);
    writeSafetensors(
      f,
      {
        f32: { shape: [5], data: f32 },
        f16: { dtype: 'F16', shape: [5], data: f32 },
        bf16: { dtype: 'BF16', shape: [1, 5], data: f32 },
        f64: { shape: [2], data: Float64Array.of(Math.PI, -1) },
        i64: { shape: [3], data: BigInt64Array.of(-1n, 2n ** 40n, 7n) },
        i32: { shape: [2, 1], data: Int32Array.of(-5, 9) },
        u8: { shape: [2], data: Uint8Array.of(0, 255) },
        empty: { shape: [0, 3], data: new Float32Array(0) },
      },
      { format: 'pt', note: 'héllo' },
    );
    const st = SafetensorsFile.open(f);
    assert.deepEqual(st.metadata, { format: 'pt', note: 'héllo' });
    assert.deepEqual(Array.from(st.readFloat32('f32')), Array.from(f32));
    assert.deepEqual(Array.from(st.readFloat32('f16')), [
      1.5,
      -2.25,
      f16ToF32(f32ToF16(Float32Array.of(3e-5)))[0],
      65504,
      0,
    ]);
    assert.equal(st.info('bf16').dtype, 'BF16');
    assert.deepEqual(st.info('bf16').shape, [1, 5]);
    assert.deepEqual(Array.from(st.readFloat32('bf16')).slice(0, 2), [1.5, -2.25]);
    assert.ok(Math.abs(st.readFloat32('f64')[0] - Math.PI) < 1e-6);
    assert.deepEqual(Array.from(st.readInt64('i64')), [-1n, 2n ** 40n, 7n]);
    assert.deepEqual(Array.from(st.readInt64('i32')), [-5n, 9n]);
    assert.deepEqual(Array.from(st.readInt64('u8')), [0n, 255n]);
    assert.equal(st.readFloat32('empty').length, 0);
    assert.throws(() => st.readFloat32('i64'), /not a float tensor/);
    assert.throws(() => st.readFloat32('nope'), /no tensor named 'nope'/);
    st.close();
    // the header is padded to 8 bytes, as the reference implementation does
    const hlen = Number(fs.readFileSync(f).readBigUInt64LE(0));
    assert.equal(hlen % 8, 0);
    assert.deepEqual(fs.readdirSync(dir), ['a.safetensors'], 'no temp file left behind');
  });

  it('decodes every one of the 65,536 half codes and re-encodes them exactly', () => {
    const codes = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = f16ToF32(codes);
    const back = f32ToF16(f);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(f[i])) assert.ok(Number.isNaN(f16ToF32(Uint16Array.of(back[i]))[0]));
      else assert.equal(back[i], i, `half code ${i} (${f[i]})`);
    }
    // hand-checked values: 1 = 0x3c00, -2 = 0xc000, smallest subnormal 2^-24 = 0x0001, 65504 = 0x7bff
    assert.deepEqual(
      Array.from(f32ToF16(Float32Array.of(1, -2, 2 ** -24, 65504, 1e6))),
      [0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00],
    );
  });

  it('rounds float32 to bfloat16 to nearest even', () => {
    // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to even (1).
    // 1 + 3 * 2^-8 lies between 1 + 2^-7 and 1 + 2^-6: ties to even go up.
    const x = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20);
    assert.deepEqual(Array.from(bf16ToF32(f32ToBf16(x))), [1, 1 + 2 ** -6, 1 + 2 ** -7]);
  });

  it('rejects malformed files with the file and tensor named', () => {
    const dir = tmp();
    const shortFile = path.join(dir, 'short.safetensors');
    fs.writeFileSync(shortFile, Buffer.from([1, 2, 3]));
    assert.throws(
      () => SafetensorsFile.open(shortFile),
      (e: Error) =>
        e instanceof SafetensorsError && e.message.includes('short.safetensors') && /too short/.test(e.message),
    );
    assert.throws(
      () =>
        SafetensorsFile.open(
          rawFile(dir, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8), 10_000n),
        ),
      /header length 10000 exceeds the file size/,
    );
    assert.throws(() => SafetensorsFile.open(rawFile(dir, '{"a": ', Buffer.alloc(0))), /not valid JSON/);
    assert.throws(
      () =>
        SafetensorsFile.open(rawFile(dir, { w: { dtype: 'F8', shape: [2], data_offsets: [0, 2] } }, Buffer.alloc(2))),
      /tensor 'w': unknown dtype "F8"/,
    );
    assert.throws(
      () =>
        SafetensorsFile.open(rawFile(dir, { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8))),
      /tensor 'w': data_offsets \[0, 16\] run past the end/,
    );
    assert.throws(
      () =>
        SafetensorsFile.open(rawFile(dir, { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8))),
      /tensor 'w': 8 bytes for F32\[3\], expected 12/,
    );
    assert.throws(
      () =>
        SafetensorsFile.open(
          rawFile(
            dir,
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
            },
            Buffer.alloc(12),
          ),
        ),
      /tensor 'b' \[4, 12\] overlaps the tensor before it, which ends at byte 8/,
    );
    const two = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
    };
    assert.throws(
      () => SafetensorsFile.open(rawFile(dir, two, Buffer.alloc(20))),
      /tensor 'b' starts at byte 12 of the data, leaving a gap after byte 8/,
    );
    const one = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    assert.throws(
      () => SafetensorsFile.open(rawFile(dir, one, Buffer.alloc(9))),
      /cover 8 bytes of data but the file holds 9.*trailing bytes/,
    );
    // a header length one short: the header still parses (the last byte is padding), the data is off by one
    const padded = JSON.stringify(one) + ' ';
    assert.throws(
      () => SafetensorsFile.open(rawFile(dir, padded, Buffer.alloc(8), BigInt(padded.length - 1))),
      /cover 8 bytes of data but the file holds 9/,
    );
    assert.throws(
      () =>
        SafetensorsFile.open(rawFile(dir, { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, Buffer.alloc(0))),
      /tensor 'w': shape must be/,
    );
    assert.throws(
      () => SafetensorsFile.open(path.join(dir, 'missing.safetensors')),
      /missing.safetensors: cannot open/,
    );
  });

  it('accepts zero-size tensors anywhere, as the reference reader does', () => {
    const dir = tmp();
    const header = {
      e: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      z: { dtype: 'I64', shape: [0], data_offsets: [8, 8] },
    };
    const f = SafetensorsFile.open(rawFile(dir, header, Buffer.alloc(8)));
    assert.equal(f.readFloat32('e').length, 0);
    assert.equal(f.readInt64('z').length, 0);
    f.close();
  });

  it('survives a few hundred seeded mutations: each file is read whole or refused with a SafetensorsError', () => {
    const dir = tmp();
    const good = path.join(dir, 'good.safetensors');
    writeSafetensors(
      good,
      {
        'w.weight': { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i) },
        'w.bias': { dtype: 'F16', shape: [4], data: new Float32Array(4).fill(0.5) },
        ids: { shape: [2], data: BigInt64Array.of(1n, 2n) },
      },
      { format: 'pt' },
    );
    const bytes = fs.readFileSync(good);
    const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
    const rng = new Rng(20261130);
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      let m = Buffer.from(bytes);
      const kind = i % 5;
      if (kind === 0)
        m[8 + rng.int(headerEnd - 8)] = rng.int(256); // a header byte
      else if (kind === 1)
        m[8 + rng.int(headerEnd - 8)] = '0123456789,:[]{}"'.charCodeAt(rng.int(17)); // a plausible JSON byte
      else if (kind === 2)
        m = m.subarray(0, rng.int(m.length)); // truncated
      else if (kind === 3)
        m = Buffer.concat([m, Buffer.alloc(1 + rng.int(16))]); // trailing bytes
      else m.writeBigUInt64LE(BigInt(headerEnd - 8 + rng.int(9) - 4), 0); // header length off by up to 4
      const f = path.join(dir, `m${i}.safetensors`);
      fs.writeFileSync(f, m);
      let st: SafetensorsFile;
      try {
        st = SafetensorsFile.open(f);
      } catch (e) {
        assert.ok(
          e instanceof SafetensorsError,
          `mutation ${i} (kind ${kind}) threw ${(e as Error).name}: ${(e as Error).message}`,
        );
        continue;
      }
      accepted++;
      let covered = 0;
      for (const n of st.names()) {
        const t = st.info(n);
        covered += t.end - t.begin;
        if (['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) st.readFloat32(n);
        else st.readInt64(n);
      }
      assert.equal(
        covered,
        m.length - 8 - Number(m.readBigUInt64LE(0)),
        `mutation ${i}: accepted tensors cover the data exactly`,
      );
      st.close();
    }
    assert.ok(
      accepted > 0 && accepted < 400,
      `some mutations keep the file valid (e.g. a changed value), most do not: ${accepted} accepted`,
    );
  });

  it('writes and reads sharded checkpoints through model.safetensors.index.json', () => {
    const dir = tmp();
    const tensors = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [
        `layer.${i}.weight`,
        { shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, j) => i * 100 + j) },
      ]),
    );
    const files = writeWeights(dir, tensors, { maxShardBytes: 130 });
    assert.ok(files.includes('model.safetensors.index.json'));
    assert.ok(files.length >= 4, `expected several shards, got ${files}`);
    const store = WeightStore.open(dir);
    assert.equal(store.names().length, 5);
    assert.equal(store.readFloat32('layer.3.weight')[2], 302);
    store.close();
    // a shard that the index names but that does not hold the tensor
    const idx = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    idx.weight_map['layer.0.weight'] = idx.weight_map['layer.4.weight'];
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(idx));
    assert.throws(
      () => WeightStore.open(dir),
      /'layer.0.weight' is mapped to model-\d+-of-\d+\.safetensors, which does not contain it/,
    );
  });

  it('says what to do with a pytorch_model.bin folder', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    assert.throws(() => WeightStore.open(dir), /pytorch_model\.bin.*safe_serialization=True/);
  });

  it('reads the shared reference checkpoints stored as F16 and BF16', (t) => {
    const ref = sharedData(t, 'reference');
    if (!ref) return;
    const t5 = WeightStore.open(path.join(ref, 't5-tiny'));
    const name = t5.names().find((n) => t5.info(n).dtype === 'F16')!;
    assert.ok(name, 't5-tiny holds F16 tensors');
    const w = t5.readFloat32(name);
    assert.ok(w.every(Number.isFinite));
    const llama = WeightStore.open(path.join(ref, 'llama-tiny'));
    const bname = llama.names().find((n) => llama.info(n).dtype === 'BF16')!;
    assert.ok(bname, 'llama-tiny holds BF16 tensors');
    assert.ok(llama.readFloat32(bname).some((x) => x !== 0));
    t5.close();
    llama.close();
  });
});
