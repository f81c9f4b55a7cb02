/**
 * The cancellation the request path passes down: a client that left, a shared upstream call that
 * no one waits on any more. `CancelSignal` is the part of `AbortSignal` that the path uses, so an
 * AbortSignal can be given wherever one is taken (tests do).
 *
 * Written here rather than using AbortController because of what that costs in Node 20: about
 * 3 µs to make one and as much again to add and remove a listener (nodejs/performance#44, "AbortSignal
 * pattern is slow"), and each request made two and listened on both, about 3% of a page request's
 * CPU in `node --cpu-prof` under bench/. This one is an array of listeners.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Cancels once: each listener added before then is called once, in order; later ones never. */
export class Canceller implements CancelSignal {
  aborted = false;
  private listeners: Array<() => void> | undefined;

  get signal(): CancelSignal {
    return this;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        queueMicrotask(() => { throw error; }); // as EventTarget reports a listener's error: the others still run
      }
    }
  }
}
