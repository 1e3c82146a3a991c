import test from 'ava';
import type { RecordedRequest } from '../../src/profile/schema';
import { SuspectLog, suspectKey } from '../../src/warmup/suspects';

test('the suspect log writes a key before its request is sent, and settles to none once the round has ended', (t) => {
  const writes: string[][] = [];
  const log = new SuspectLog((keys) => writes.push([...keys]));
  const a: RecordedRequest = { method: 'GET', url: '/a', headers: {}, count: 1 };
  const b: RecordedRequest = { method: 'GET', url: '/b', headers: {}, count: 1 };
  log.sending(a);
  t.deepEqual(writes, [[suspectKey(a)]]);
  log.sending(a);
  t.is(writes.length, 1, 'a key already named is not written again');
  log.sending(b);
  t.deepEqual(writes.at(-1), [suspectKey(a), suspectKey(b)]);
  log.ended(a);
  log.ended(a);
  t.is(writes.length, 2, 'an end writes nothing');
  log.ended(b);
  log.settle();
  t.deepEqual(writes.at(-1), []);
  log.settle();
  t.is(writes.length, 3);
});

test('a suspect write that fails is tried again at the next request', (t) => {
  let fail = true;
  const writes: string[][] = [];
  const log = new SuspectLog((keys) => {
    if (fail) throw new Error('EIO');
    writes.push([...keys]);
  });
  const a: RecordedRequest = { method: 'GET', url: '/a', headers: {}, count: 1 };
  t.notThrows(() => log.sending(a));
  fail = false;
  log.sending(a);
  t.deepEqual(writes, [[suspectKey(a)]]);
});

test('a suspect key is the request as replayed: method case aside, the same for the same method, target, content type, accept and body', (t) => {
  const r: RecordedRequest = { method: 'GET', url: '/a?x=1', headers: { accept: 'text/html' }, count: 3 };
  t.regex(suspectKey(r), /^[0-9a-f]{12}$/);
  t.is(suspectKey(r), suspectKey({ ...r, method: 'get', count: 1, latencyMs: 4 } as RecordedRequest));
  t.not(suspectKey(r), suspectKey({ ...r, url: '/a?x=2' }));
  t.not(suspectKey(r), suspectKey({ ...r, headers: {} }));
  t.not(suspectKey(r), suspectKey({ ...r, method: 'POST', body: '{}' }));
});
