/**
 * Runs at most `concurrency` calls at once; the others wait, first come first served. Written
 * here rather than taken from p-limit (used before): p-limit wraps every call in its own async
 * machinery and a queue, about 1.5% of a page request's CPU in `node --cpu-prof`, for requests
 * that almost always make a single call.
 */
export function concurrencyLimit(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    // A finishing call hands its slot straight to the next in line, so that a call arriving
    // in between cannot take it too.
    if (active < concurrency) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}
