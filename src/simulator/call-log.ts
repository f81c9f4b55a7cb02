/** The simulator's log of the API calls it received, for tests and the `/__admin/calls` route. */

export interface CallRecord {
  seq: number;
  method: string;
  path: string;
  projectId?: string;
  instanceId?: string;
  /** The raw query string, as it came on the wire. */
  query: string;
  caller?: string;
  status?: number;
  /** Milliseconds since the simulator started. */
  startedAt: number;
  endedAt?: number;
  /** Which credentials came (never their values), the project and language, and the W3C `traceparent` (tracing's, not a secret). */
  headers: { xAuthToken: boolean; authorization: boolean; xProjectId?: string; xLanguage?: string; traceparent?: string };
}

export interface CallSummary {
  /** Calls in `calls`. */
  count: number;
  maxInFlight: number;
  perInstance: Record<string, number>;
  /** The calls asked for that the log still holds, oldest first. */
  calls: CallRecord[];
  /** The `seq` of the latest call received (0 before the first). */
  seq: number;
  /** Calls asked for that the log no longer holds (it keeps the most recent `capacity`). */
  dropped: number;
}

/**
 * The API calls received, the most recent `capacity` of them (a ring: memory stays bounded
 * however long the simulator runs, embedded in `npm start` too), with how many were in flight
 * at once. `seq` numbers every call and keeps counting past the capacity and across resets, so
 * a reader asks for the calls since the `seq` it last saw.
 */
export class CallLog {
  inFlight = 0;
  maxInFlight = 0;
  private ring: CallRecord[] = [];
  /** Where the next record goes once the ring is full: the oldest record. */
  private next = 0;
  private lastSeq = 0;
  /** `seq` of the last call before the latest reset. */
  private resetAfter = 0;

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a call log capacity is a whole number of at least 1, got ${capacity}`);
  }

  /** The `seq` of the latest call received (0 before the first). */
  get seq(): number {
    return this.lastSeq;
  }

  /** The calls held (at most `capacity`, since the latest reset), oldest first. */
  get records(): CallRecord[] {
    return this.ring.length < this.capacity ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  start(record: Omit<CallRecord, 'seq'>): CallRecord {
    const full = { ...record, seq: ++this.lastSeq };
    if (this.ring.length < this.capacity) this.ring.push(full);
    else { this.ring[this.next] = full; this.next = (this.next + 1) % this.capacity; }
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return full;
  }

  end(record: CallRecord, status: number, at: number): void {
    record.status = status;
    record.endedAt = at;
    this.inFlight -= 1;
  }

  reset(): void {
    this.ring = [];
    this.next = 0;
    this.resetAfter = this.lastSeq;
    this.maxInFlight = this.inFlight;
  }

  /** The calls since the latest reset, or after call `since` when that is later; of one instance when given. */
  summary(instanceId?: string, since = 0): CallSummary {
    const after = Math.max(since, this.resetAfter);
    const held = this.records.filter((r) => r.seq > after);
    const calls = instanceId === undefined ? held : held.filter((r) => r.instanceId === instanceId);
    const perInstance: Record<string, number> = {};
    for (const r of held) if (r.instanceId !== undefined) perInstance[r.instanceId] = (perInstance[r.instanceId] ?? 0) + 1;
    const oldestHeld = held[0]?.seq ?? this.lastSeq + 1;
    return { count: calls.length, maxInFlight: this.maxInFlight, perInstance, calls, seq: this.lastSeq, dropped: Math.max(0, oldestHeld - after - 1) };
  }
}
