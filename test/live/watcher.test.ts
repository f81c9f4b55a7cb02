/** Watcher: one subscriber's iterator of a live key's events. */
import type { Backup } from '../../src/backups/model';
import type { BackupChangeEvent } from '../../src/live/source';
import { MAX_QUEUED_EVENTS, Watcher } from '../../src/live/watcher';

const event = (id: string): BackupChangeEvent => ({ kind: 'ADDED', backup: { id } as Backup, totalCount: 1 });
const DONE = { done: true, value: undefined };

describe('Watcher', () => {
  it('hands out events pushed before and while it is waited on, in order', async () => {
    const watcher = new Watcher(() => undefined);
    watcher.push(event('a'));
    watcher.push(event('b'));
    expect((await watcher.next()).value?.backup.id).toBe('a');
    expect((await watcher.next()).value?.backup.id).toBe('b');
    const waiting = watcher.next();
    watcher.push(event('c'));
    expect((await waiting).value?.backup.id).toBe('c');
  });

  it('delivers the events queued before an end, then throws its error once, then is done', async () => {
    const watcher = new Watcher(() => undefined);
    const error = new Error('gone');
    watcher.push(event('a'));
    watcher.end(error);
    watcher.push(event('late'));
    expect((await watcher.next()).value?.backup.id).toBe('a');
    await expect(watcher.next()).rejects.toBe(error);
    expect(await watcher.next()).toEqual(DONE);
  });

  it('ends a subscriber that falls MAX_QUEUED_EVENTS behind with RATE_LIMITED, holding no more than that', async () => {
    let left = 0;
    const watcher = new Watcher(() => { left += 1; });
    for (let i = 0; i < MAX_QUEUED_EVENTS; i++) watcher.push(event(`e${i}`));
    expect(watcher.open).toBe(true);
    watcher.push(event('one too many'));
    expect(watcher.open).toBe(false);
    await expect(watcher.next()).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect(await watcher.next()).toEqual(DONE);
    expect(left).toBe(1); // it left the key's poll then, once
    await watcher.return();
    expect(left).toBe(1);
  });

  it('ends a waiting next() at once, with the error or done', async () => {
    const failing = new Watcher(() => undefined);
    const waiting = failing.next();
    failing.end(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    const ending = new Watcher(() => undefined);
    const pending = ending.next();
    ending.end();
    expect(await pending).toEqual(DONE);
  });

  it('tells its poll once when the subscriber leaves, ends a waiting next(), and takes no more events', async () => {
    const onLeave = jest.fn();
    const watcher = new Watcher(onLeave);
    const waiting = watcher.next();
    expect(await watcher.return()).toEqual(DONE);
    expect(await waiting).toEqual(DONE);
    await watcher.throw();
    watcher.push(event('a'));
    expect(await watcher.next()).toEqual(DONE);
    expect(onLeave).toHaveBeenCalledTimes(1);
  });

  it('does not tell its poll when it leaves after the poll ended it', async () => {
    const onLeave = jest.fn();
    const watcher = new Watcher(onLeave);
    watcher.end();
    await watcher.return();
    expect(onLeave).not.toHaveBeenCalled();
  });
});
