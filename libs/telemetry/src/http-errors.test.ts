import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { defineError } from '@netaccel/errors';
import type { ErrorKind } from '@netaccel/errors';
import { errorReply, httpStatusOfKind } from './http-errors.js';

describe('errorReply', () => {
  it('maps every error kind to an HTTP status', () => {
    const expected: Record<ErrorKind, number> = {
      'invalid-argument': 400,
      'not-found': 404,
      'already-exists': 409,
      'failed-precondition': 400,
      'permission-denied': 403,
      'resource-exhausted': 429,
      unavailable: 503,
      'deadline-exceeded': 504,
      aborted: 409,
      internal: 500,
    };
    for (const [kind, status] of Object.entries(expected)) {
      assert.equal(httpStatusOfKind(kind as ErrorKind), status, kind);
      const err = defineError('NA_ERR_TESTHTTP_X', 'x', kind as ErrorKind)();
      assert.equal(errorReply(err, 'GET', '/x').statusCode, status, kind);
    }
  });

  it('keeps the 4xx status and code of framework errors', () => {
    const err = Object.assign(new Error("Body is not valid JSON but content-type is set to 'application/json'"), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    assert.deepEqual(errorReply(err, 'POST', '/v1/x'), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      error: 'Bad Request',
      message: err.message,
    });
  });

  it('hides anything else behind a 500', () => {
    for (const thrown of [new Error('db password is hunter2'), 'a string', Object.assign(new Error('x'), { statusCode: 503 })]) {
      assert.deepEqual(errorReply(thrown, 'GET', '/v1/status'), {
        statusCode: 500,
        code: 'NA_ERR_TELEMETRY_REQUEST_FAILED',
        error: 'Internal Server Error',
        message: 'internal error while handling GET /v1/status',
      });
    }
  });
});
