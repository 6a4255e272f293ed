import { test } from 'vitest';
import assert from 'node:assert/strict';
import { parseWrk, wrkProblem } from './wrk.js';

const CLEAN = `Running 1s test @ http://10.100.0.1:80/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.34us  201.11us   4.01ms   80.00%
    Req/Sec    52.11k     3.20k   55.00k    70.00%
  52110 requests in 1.00s, 7.80MB read
Requests/sec:  52043.17
Transfer/sec:      7.79MB
`;

const WITH_ERRORS = `Running 1s test @ http://10.100.0.5:80/
  1 threads and 16 connections
  8000 requests in 1.01s, 1.20MB read
  Socket errors: connect 3, read 120, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:   7920.79
Transfer/sec:      1.19MB
`;

test('parses a clean summary', () => {
  const r = parseWrk(CLEAN);
  assert.deepEqual(r, { requests: 52110, seconds: 1, requestsPerS: 52043.17, errors: { connect: 0, read: 0, write: 0, timeout: 0 }, non2xx: 0 });
  assert.equal(wrkProblem(r), undefined);
});

test('parses socket errors and non-2xx responses; more than 1% is a problem', () => {
  const r = parseWrk(WITH_ERRORS);
  assert.deepEqual(r.errors, { connect: 3, read: 120, write: 0, timeout: 2 });
  assert.equal(r.non2xx, 5);
  assert.equal(r.seconds, 1.01);
  assert.match(wrkProblem(r) ?? '', /^130 errors for 8000 requests/);
  assert.equal(parseWrk(CLEAN.replace('52110 requests in 1.00s', '52110 requests in 500.00ms')).seconds, 0.5);
});

test('no summary: an error quoting the end of the output', () => {
  assert.throws(() => parseWrk('unable to connect to 10.100.0.1:80 Connection refused\n'), /^Error: wrk: no summary in its output:\nunable to connect/);
  assert.equal(wrkProblem({ ...parseWrk(CLEAN), requests: 0 }), 'no request completed');
});
