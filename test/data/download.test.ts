import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { GLUE_SOURCES, downloadGlue, httpFetch, splitMrpc } from '../../src/data/download.js';
import { loadGlue } from '../../src/data/glue.js';
import { readZip } from '../../src/io/zip.js';

/** A zip archive from name -> text, alternating stored and deflated entries. */
function makeZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  Object.entries(files).forEach(([name, text], i) => {
    const raw = Buffer.from(text);
    const method = i % 2 ? 8 : 0;
    const data = method ? zlib.deflateRawSync(raw) : raw;
    const crc = zlib.crc32(raw);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  });
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('revmux data download', () => {
  it("unpacks the task archives and rebuilds MRPC with GLUE's split rule", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-dl-'));
    const sst = makeZip({
      'SST-2/train.tsv': 'sentence\tlabel\ngood film \t1\nbad film \t0\n',
      'SST-2/dev.tsv': 'sentence\tlabel\nfine \t1\n',
      'SST-2/original/x.txt': 'ignored',
    });
    const mrpcTrain =
      '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t10\t11\ta\tb\n0\t12\t13\tc\td\n1\t14\t15\te\tf\n';
    const fetched: string[] = [];
    const fetcher = async (url: string) => {
      fetched.push(url);
      if (url === GLUE_SOURCES.zip('SST-2')) return sst;
      if (url === GLUE_SOURCES.mrpcTrain) return Buffer.from(mrpcTrain);
      if (url === GLUE_SOURCES.mrpcDevIds) return Buffer.from('12\t13\n');
      throw new Error(`unexpected ${url}`);
    };
    const log: string[] = [];
    await downloadGlue(dir, ['sst2', 'mrpc'], fetcher, (s) => log.push(s));
    assert.deepEqual(
      loadGlue(dir, 'sst2', 'train').map((e) => e.label),
      [1, 0],
    );
    assert.deepEqual(loadGlue(dir, 'mrpc', 'dev'), [{ textA: 'c', textB: 'd', label: 0 }]);
    assert.equal(loadGlue(dir, 'mrpc', 'train').length, 2);
    assert.match(log.join('\n'), /SST-2: 2 train, 1 dev rows/);
    assert.equal(readZip(sst).length, 3);
    assert.deepEqual(splitMrpc(mrpcTrain, '14\t15\r\n').dev.split('\n').length, 3); // header, one row, trailing empty
  });

  it('says the machine has no internet access when the host cannot be reached', async () => {
    await assert.rejects(
      httpFetch('http://127.0.0.1:39999/glue.zip'),
      /cannot reach 127\.0\.0\.1:39999 \(ECONNREFUSED\).*no internet access.*REVMUX_DATA/s,
    );
    assert.throws(() => readZip(Buffer.from('not a zip at all, definitely not'), 'x.zip'), /x\.zip: not a zip archive/);
  });
});
