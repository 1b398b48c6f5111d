// Tests that need ../shared/data: skip with a clear message locally, fail in CI (CI has the data).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const SHARED_DATA = path.resolve(process.env.REVMUX_SHARED_DATA ?? '../shared/data');

/** The absolute path of `rel` under the shared data, or null after skipping the test. */
export function sharedData(t: TestContext, rel: string): string | null {
  const p = path.join(SHARED_DATA, rel);
  if (fs.existsSync(p)) return p;
  if (process.env.CI) assert.fail(`CI is set but the shared data ${p} is missing`);
  t.skip(`shared data ${p} not present`);
  return null;
}
