import { Canceller, type CancelSignal } from '../src/cancel';

describe('Canceller', () => {
  it('calls each listener once, in the order they were added, and is aborted from then on', () => {
    const canceller = new Canceller();
    const calls: string[] = [];
    canceller.signal.addEventListener('abort', () => calls.push('first'), { once: true });
    canceller.signal.addEventListener('abort', () => calls.push('second'));
    expect(canceller.signal.aborted).toBe(false);
    canceller.abort();
    canceller.abort();
    expect(calls).toEqual(['first', 'second']);
    expect(canceller.signal.aborted).toBe(true);
  });

  it('calls no listener that was removed, nor one added after it aborted', () => {
    const canceller = new Canceller();
    const removed = jest.fn();
    const late = jest.fn();
    const kept = jest.fn();
    canceller.signal.addEventListener('abort', removed);
    canceller.signal.addEventListener('abort', kept);
    canceller.signal.removeEventListener('abort', removed);
    canceller.signal.removeEventListener('abort', () => undefined); // one never added: nothing happens
    canceller.abort();
    canceller.signal.addEventListener('abort', late);
    canceller.abort();
    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(late).not.toHaveBeenCalled();
  });

  it('still calls the other listeners when one throws, and reports the error after', async () => {
    const canceller = new Canceller();
    const after = jest.fn();
    // The error is rethrown in a microtask, as EventTarget does: caught here instead of crashing the test.
    const reported = new Promise<unknown>((resolve) => {
      jest.spyOn(globalThis, 'queueMicrotask').mockImplementationOnce((task) => {
        try {
          task();
        } catch (error) {
          resolve(error);
        }
      });
    });
    canceller.signal.addEventListener('abort', () => { throw new Error('listener failed'); });
    canceller.signal.addEventListener('abort', after);
    expect(() => canceller.abort()).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    await expect(reported).resolves.toEqual(new Error('listener failed'));
    jest.restoreAllMocks();
  });

  it('takes the place of an AbortSignal, and an AbortSignal takes its place', () => {
    const fromController: CancelSignal = new AbortController().signal;
    expect(fromController.aborted).toBe(false);
  });
});
