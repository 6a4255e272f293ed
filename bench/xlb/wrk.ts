/**
 * wrk's summary, parsed: requests, duration, requests/s, socket errors and non-2xx/3xx
 * responses. Throws naming what is missing when the text is not a wrk summary.
 */

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerS: number;
  readonly errors: { connect: number; read: number; write: number; timeout: number };
  readonly non2xx: number;
}

const UNITS: Readonly<Record<string, number>> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

export function parseWrk(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(text);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!total || !rate) throw new Error(`wrk: no summary in its output:\n${text.trim().split('\n').slice(-6).join('\n')}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: Number(total[2]) * UNITS[total[3]!]!,
    requestsPerS: Number(rate[1]),
    errors: sock ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) } : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/**
 * Whether a run is usable: most requests answered without errors. wrk counts a read error
 * for connections the server closes after a `Connection: close` response only when the
 * response was cut, so errors beyond 1% mean the path is broken.
 */
export function wrkProblem(r: WrkResult): string | undefined {
  if (r.requests === 0) return 'no request completed';
  const errors = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.non2xx;
  if (errors > r.requests * 0.01) return `${errors} errors for ${r.requests} requests (${JSON.stringify(r.errors)}, non-2xx ${r.non2xx})`;
  return undefined;
}
