/**
 * Keeps the service AK from being locked: the cloud locks an AK for five minutes after five
 * refused signatures in a row, for every caller of that AK, this gateway's and anyone else's.
 *
 * Pausing after `failuresBeforePause` refusals is not enough on its own: calls already in flight
 * when the first refusal arrives are all refused too, so 20 concurrent calls with a wrong SK
 * would show the cloud 20 failures. So attempts are admitted against slots. Until a key has been
 * accepted (at start-up, and again after any refusal), at most `failuresBeforePause - refusals`
 * attempts with it are in flight; the others wait for an answer. The cloud therefore sees at most
 * `failuresBeforePause` refusals before the pause, however many calls run at once.
 *
 * Once a key has been accepted it is trusted and attempts are not limited (the gateway's
 * throughput depends on it). What this cannot prevent: when a trusted key stops being accepted
 * (the SK is rotated while calls are in flight), the attempts already sent are refused together.
 * An attempt that got no answer (a timeout, a network failure, a 5xx) frees its slot without
 * counting, although the cloud may have refused it unseen.
 */
import { CredentialsPausedError, UpstreamTimeoutError } from './errors';

/** What an attempt told about the key: the cloud accepted it, refused it (401), or we cannot tell. */
export type KeyVerdict = 'accepted' | 'refused' | 'unknown';

/** Call once, with what the attempt's answer said about the key. */
export type ReleaseSlot = (verdict: KeyVerdict) => void;

export interface AkGuardOptions {
  /** Refusals in a row after which the key is paused. */
  failuresBeforePause: number;
  pauseMs: number;
  now?: () => number;
}

interface KeyState {
  /** Refusals since the last acceptance. */
  refusals: number;
  /** Accepted, and not refused since. */
  trusted: boolean;
  inFlight: number;
  /** Epoch ms; 0 when not paused. */
  pausedUntil: number;
  /** Callers waiting for a slot, woken whenever an attempt ends. */
  waiting: Set<() => void>;
}

export class AkGuard {
  /** One entry per AK used: the service's one key (a caller's credentials are tokens, not AKs). */
  private readonly keys = new Map<string, KeyState>();
  private readonly failuresBeforePause: number;
  private readonly pauseMs: number;
  private readonly now: () => number;

  constructor({ failuresBeforePause, pauseMs, now = Date.now }: AkGuardOptions) {
    if (!Number.isInteger(failuresBeforePause) || failuresBeforePause < 1) throw new RangeError(`failuresBeforePause must be a whole number >= 1, got ${failuresBeforePause}`);
    this.failuresBeforePause = failuresBeforePause;
    this.pauseMs = pauseMs;
    this.now = now;
  }

  /**
   * Resolves with the release of a slot once an attempt with `ak` may be sent. Rejects with
   * CredentialsPausedError while the key is paused (also for callers that were waiting when the
   * pause began), and with UpstreamTimeoutError once `timeLeft()` is not positive.
   */
  async admit(ak: string, timeLeft: () => number): Promise<ReleaseSlot> {
    const state = this.stateOf(ak);
    for (;;) {
      const now = this.now();
      if (state.pausedUntil > now) throw new CredentialsPausedError(Math.ceil((state.pausedUntil - now) / 1000));
      if (state.pausedUntil !== 0) {
        // The pause is over: one attempt may try the key again; a refusal pauses it again.
        state.pausedUntil = 0;
        state.refusals = this.failuresBeforePause - 1;
      }
      if (state.trusted || state.inFlight < this.failuresBeforePause - state.refusals) break;
      const left = timeLeft();
      if (left <= 0) throw new UpstreamTimeoutError(0);
      await this.nextChange(state, left);
      if (timeLeft() <= 0) throw new UpstreamTimeoutError(0);
    }
    state.inFlight += 1;
    let released = false;
    return (verdict) => {
      if (released) return;
      released = true;
      this.release(state, verdict);
    };
  }

  private release(state: KeyState, verdict: KeyVerdict): void {
    state.inFlight -= 1;
    if (verdict === 'accepted') {
      state.refusals = 0;
      state.trusted = true;
    } else if (verdict === 'refused') {
      state.refusals += 1;
      state.trusted = false;
      if (state.refusals >= this.failuresBeforePause) state.pausedUntil = this.now() + this.pauseMs;
    }
    const waiting = [...state.waiting];
    state.waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Resolves when an attempt with this key ends, or after `ms` (the caller re-checks its deadline). */
  private nextChange(state: KeyState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        state.waiting.delete(wake);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(wake, Math.min(ms, 2 ** 31 - 1)) : undefined; // no deadline: an attempt in flight ends within its timeout
      state.waiting.add(wake);
    });
  }

  private stateOf(ak: string): KeyState {
    let state = this.keys.get(ak);
    if (!state) {
      state = { refusals: 0, trusted: false, inFlight: 0, pausedUntil: 0, waiting: new Set() };
      this.keys.set(ak, state);
    }
    return state;
  }
}
