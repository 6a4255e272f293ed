/**
 * Runs a piece of work with a deadline. The work gets an AbortSignal that fires when the deadline
 * passes, so it can stop what it was doing; the caller gets `onTimeout()`'s error. The timer never
 * outlives the work, so a finished run leaves no handle behind.
 */

export async function withDeadline<T>(
  work: (signal: AbortSignal) => T | PromiseLike<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = onTimeout();
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    // An async wrapper turns a synchronous throw into a rejection.
    const run = (async () => work(controller.signal))();
    return await Promise.race([run, expired]);
  } finally {
    clearTimeout(timer);
  }
}
