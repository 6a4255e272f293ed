#!/usr/bin/env node
// HEALTHCHECK of the netaccel images: `node healthcheck.mjs http://127.0.0.1:9465/healthz`.
// GETs a daemon's telemetry /healthz (libs/telemetry: 200 {"status":"ok"} while the process
// lives) and exits 0 on 200, 1 on anything else, a refused connection or after 2 s. The images
// have no curl; Node's fetch does the same.
import process from 'node:process';

const TIMEOUT_MS = 2000; // 2 s, below the HEALTHCHECK --timeout of the images (3 s)

const url = process.argv[2];
if (url === undefined || !/^http:\/\/[^/]+\/healthz$/.test(url)) {
  console.error(`healthcheck: expected a URL like http://127.0.0.1:9465/healthz, got ${JSON.stringify(url)}`);
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (res.status !== 200) {
    console.error(`healthcheck: ${url} answered HTTP ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`healthcheck: ${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
  process.exit(1);
}
