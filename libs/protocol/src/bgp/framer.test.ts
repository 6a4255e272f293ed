import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createContext } from './context.js';
import { BgpFramer } from './framer.js';
import { encodeMessage, keepalive } from './message.js';
import { cease } from './notification.js';
import { open } from './open.js';
import { hex, throwsNotification } from './testing/bytes.js';

function drain(f: BgpFramer): Buffer[] {
  const out: Buffer[] = [];
  for (let m = f.next(); m !== null; m = f.next()) out.push(m);
  return out;
}

const STREAM = [encodeMessage(open({ asn: 65001, routerId: '192.0.2.1' })), encodeMessage(keepalive()), encodeMessage(cease(2, 'maintenance'))];
const JOINED = Buffer.concat(STREAM);

test('whole messages come out whatever the chunking', () => {
  for (const size of [1, 2, 7, 19, 64, JOINED.length]) {
    const f = new BgpFramer();
    const got: Buffer[] = [];
    for (let i = 0; i < JOINED.length; i += size) {
      f.push(JOINED.subarray(i, i + size));
      got.push(...drain(f));
    }
    assert.deepEqual(got, STREAM, `chunks of ${size}`);
    assert.equal(f.buffered, 0);
  }
});

test('a bad marker is rejected at its first octet, before the header is complete', () => {
  const f = new BgpFramer();
  f.push(hex('ffffff'));
  assert.equal(f.next(), null);
  f.push(hex('00'));
  throwsNotification(() => f.next(), { code: 1, subcode: 1 });
  // and the framer stays failed
  throwsNotification(() => f.push(hex('ff')), { code: 1, subcode: 1 });
  throwsNotification(() => f.next(), { code: 1, subcode: 1 });
});

test('a bad length is rejected as soon as the length field is there', () => {
  const f = new BgpFramer();
  f.push(hex('ffffffffffffffffffffffffffffffff 10'));
  assert.equal(f.next(), null);
  f.push(hex('01'));
  throwsNotification(() => f.next(), { code: 1, subcode: 2, data: '1001' });
  const g = new BgpFramer();
  g.push(hex('ffffffffffffffffffffffffffffffff 0005'));
  throwsNotification(() => g.next(), { code: 1, subcode: 2, data: '0005' });
});

test('messages before a bad header are handed out first', () => {
  const f = new BgpFramer();
  f.push(Buffer.concat([STREAM[1]!, STREAM[1]!, hex('ff00')]));
  assert.deepEqual([f.next(), f.next()], [STREAM[1], STREAM[1]]);
  throwsNotification(() => f.next(), { code: 1, subcode: 1 });
});

test('the maximum length follows the session: 4096, then 65535 with extended messages', () => {
  const f = new BgpFramer();
  const header = hex('ffffffffffffffffffffffffffffffff 2000 02');
  const g = new BgpFramer();
  g.useContext(createContext({ extendedMessages: true }));
  g.push(header);
  assert.equal(g.next(), null);
  assert.equal(g.maxLength, 65535);
  f.push(header);
  throwsNotification(() => f.next(), { code: 1, subcode: 2, data: '2000' });
  assert.throws(() => new BgpFramer({ maxLength: 70000 }), /framer\.maxLength: expected 19\.\.65535 octets, got 70000/);
});
