import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { withDeadline } from './deadline.js';

const timeoutError = () => Object.assign(new Error('too slow'), { code: 'TEST_TIMEOUT' });

describe('withDeadline', () => {
  it('returns what the work returns, sync or async', async () => {
    assert.equal(await withDeadline(() => 1, 50, timeoutError), 1);
    assert.equal(await withDeadline(async () => 2, 50, timeoutError), 2);
  });

  it('turns a synchronous throw into a rejection', async () => {
    await assert.rejects(
      withDeadline(() => {
        throw new Error('sync');
      }, 50, timeoutError),
      { message: 'sync' },
    );
  });

  it('rejects with the timeout error and aborts the signal when the work is too slow', async () => {
    let signal: AbortSignal | undefined;
    await assert.rejects(
      withDeadline((s) => {
        signal = s;
        return new Promise(() => undefined);
      }, 20, timeoutError),
      { code: 'TEST_TIMEOUT' },
    );
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as { code?: string }).code, 'TEST_TIMEOUT');
  });
});
