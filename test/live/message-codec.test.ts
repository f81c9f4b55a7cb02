/** LiveMessages and windows as JSON for Redis: what a replica publishes, another revives exactly. */
import { GraphQLError } from 'graphql';

import type { Backup } from '../../src/backups/model';
import { decodeMessage, decodeWindow, encodeMessage, encodeWindow, LiveWireError } from '../../src/live/message-codec';
import type { LiveMessage } from '../../src/live/polls';

const building: Backup = {
  id: 'b2', instanceId: 'i1', name: '2026-01-01T00:00:00.000Z', type: 'AUTO', status: 'BUILDING', sizeKb: 0,
  beginTime: new Date(Date.UTC(2026, 0, 1, 0, 2, 3, 456)), endTime: null,
  datastore: { type: 'MYSQL', version: '8.0' }, databases: [{ name: 'orders' }], associatedWithDdm: false, minDataVolumeCapacityForRestore: null,
};
const completed: Backup = { ...building, id: 'b1', name: 'nightly', status: 'COMPLETED', sizeKb: 2048, endTime: new Date(Date.UTC(2026, 0, 1, 0, 3)), minDataVolumeCapacityForRestore: 40 };

describe('encodeMessage() / decodeMessage()', () => {
  it('revives a changes message exactly: Dates as Dates, null as null, a name that looks like an instant as a string', () => {
    const message: LiveMessage = { kind: 'changes', events: [{ kind: 'ADDED', backup: building, totalCount: 2 }, { kind: 'UPDATED', backup: completed, totalCount: 2 }] };
    const sent = decodeMessage(encodeMessage('replica-a', message));
    expect(sent).toEqual({ from: 'replica-a', message });
    if (sent.message.kind !== 'changes') throw new Error('not changes');
    const [added, updated] = sent.message.events;
    expect(added!.backup.beginTime).toBeInstanceOf(Date);
    expect(added!.backup.beginTime.getTime()).toBe(building.beginTime.getTime());
    expect(added!.backup.endTime).toBeNull();
    expect(added!.backup.name).toBe('2026-01-01T00:00:00.000Z');
    expect(updated!.backup.endTime).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 3)));
  });

  it('revives the end of a watch as a GraphQLError with its message and extensions', () => {
    const error = new GraphQLError('Instance not found', { extensions: { code: 'NOT_FOUND', upstream: { status: 404, errorCode: 'DBS.200823', requestId: 'r1' } } });
    const sent = decodeMessage(encodeMessage('replica-a', { kind: 'end', error }));
    if (sent.message.kind !== 'end') throw new Error('not an end');
    expect(sent.message.error).toBeInstanceOf(GraphQLError);
    expect(sent.message.error.message).toBe('Instance not found');
    expect(sent.message.error.extensions).toEqual({ code: 'NOT_FOUND', upstream: { status: 404, errorCode: 'DBS.200823', requestId: 'r1' } });
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['another version', JSON.stringify({ v: 2, from: 'a', kind: 'changes', events: [] })],
    ['no sender', JSON.stringify({ v: 1, kind: 'changes', events: [] })],
    ['an unknown kind', JSON.stringify({ v: 1, from: 'a', kind: 'party' })],
    ['an event without a kind', JSON.stringify({ v: 1, from: 'a', kind: 'changes', events: [{ totalCount: 1, backup: {} }] })],
    ['a backup whose beginTime is no instant', encodeMessage('a', { kind: 'changes', events: [{ kind: 'ADDED', backup: building, totalCount: 1 }] }).replace('2026-01-01T00:02:03.456Z', 'soon')],
    ['an end without extensions', JSON.stringify({ v: 1, from: 'a', kind: 'end', error: { message: 'x' } })],
  ])('refuses %s with a LiveWireError', (_what, text) => {
    expect(() => decodeMessage(text)).toThrow(LiveWireError);
  });
});

describe('encodeWindow() / decodeWindow()', () => {
  it('revives a window exactly, in its order', () => {
    const window = decodeWindow(encodeWindow([building, completed]));
    expect(window).toEqual([building, completed]);
    expect(window[1]!.endTime).toBeInstanceOf(Date);
  });

  it('revives an empty window, and refuses what is not a window', () => {
    expect(decodeWindow(encodeWindow([]))).toEqual([]);
    expect(() => decodeWindow(JSON.stringify({ v: 1 }))).toThrow(LiveWireError);
    expect(() => decodeWindow(JSON.stringify({ v: 1, rows: [{ id: 'b1' }] }))).toThrow(LiveWireError);
  });
});
