/**
 * Who polls a live key (polls.ts), when several replicas have watchers of it. LivePolls joins
 * the coordination with a key's first watcher on this replica and leaves with its last; the
 * coordination tells it when to poll (`lead`) and when to stop because another replica polls
 * (`follow`), and hands it the messages of that other replica's poll (`receive`).
 *
 * In process (`localCoordination`, the default): this replica is alone, it always polls and
 * nothing travels. Across replicas: redis-coordination.ts.
 */
import type { Backup } from '../backups/model';
import type { LiveMessage } from './polls';

/** What LivePolls does for one key when the coordination says so. */
export interface LiveMember {
  /**
   * Poll the key from now on, at once. `previous` is the last window polled for it (by another
   * replica that held it before), so that the first poll yields only the changes since; undefined:
   * the first poll is a baseline (no events).
   */
  lead(previous: Backup[] | undefined): void;
  /** Another replica polls the key now: stop polling it (a poll in flight is dropped). */
  follow(): void;
  /** A message of the replica that polls the key, for this replica's watchers. */
  receive(message: LiveMessage): void;
}

/** A key's part in the coordination, held by LivePolls. */
export interface LiveLink {
  /**
   * After each poll this replica made that succeeded (`window` its rows, `message` its changes
   * when there were any) or that ended the watch (`message` the end, no window). The watchers of
   * this replica have been told already; this is for the others.
   */
  publish(message: LiveMessage | undefined, window?: readonly Backup[]): void;
  /** The key's last watcher on this replica left, or the key ended: no more calls to its member. */
  leave(): void;
}

export interface LiveCoordination {
  /** Joins a key (its first watcher on this replica). Calls `member.lead()` when this replica is to poll it, possibly at once. */
  join(key: string, member: LiveMember): LiveLink;
  /** Leaves every key (releasing what this replica holds) and closes connections: shutdown. */
  close(): Promise<void>;
}

/** One replica alone: it polls every key it watches, from a baseline. */
export const localCoordination: LiveCoordination = {
  join(_key, member) {
    member.lead(undefined);
    return { publish: () => undefined, leave: () => undefined };
  },
  close: async () => undefined,
};
