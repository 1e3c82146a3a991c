import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger } from '../../src/log';
import type { RecordedRequest } from '../../src/profile/schema';
import type { CrashedWarmup } from '../../src/warmup/crash-marker';
import { addSuspects, loadQuarantine, MAX_QUARANTINED, parseQuarantine, QUARANTINE_FILE, readQuarantine } from '../../src/warmup/quarantine';
import { suspectKey } from '../../src/warmup/suspects';
import { tempDir } from '../helpers/run';

const key = (i: number) => i.toString(16).padStart(12, '0');
const crashed = (startedAt: number, suspects: string[]): CrashedWarmup => ({ host: 'h', pid: 1, startedAt, limitMs: 0, suspects, file: 'warming-x.json' });
const boom: RecordedRequest = { method: 'GET', url: '/boom', headers: {}, count: 1 };

function logger() {
  const lines: string[] = [];
  return { log: createLogger('warn', (l) => lines.push(l)), lines };
}

test("a crashed warm-up's suspects go into quarantine.json (0600), named by the profile where it knows them", (t) => {
  const dir = tempDir();
  const { log, lines } = logger();
  const q = loadQuarantine(dir, [crashed(1000, [suspectKey(boom), key(9)])], [boom], log);
  t.deepEqual(lines, []);
  t.true(q.saved);
  t.deepEqual([...q.keys].sort(), [suspectKey(boom), key(9)].sort());
  const file = path.join(dir, QUARANTINE_FILE);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.deepEqual(readQuarantine(dir).entries, [
    { key: suspectKey(boom), at: new Date(1000).toISOString(), request: 'GET /boom' },
    { key: key(9), at: new Date(1000).toISOString() },
  ]);
  // Again (the marker is still there at the next boot): nothing changes.
  const before = fs.readFileSync(file, 'utf8');
  loadQuarantine(dir, [crashed(1000, [suspectKey(boom), key(9)])], [boom], log);
  t.is(fs.readFileSync(file, 'utf8'), before);
});

test('the quarantine keeps the newest entries, at most a few hundred', (t) => {
  const entries = addSuspects([], [crashed(1, [key(0)]), crashed(2, Array.from({ length: MAX_QUARANTINED }, (_, i) => key(i + 1)))], new Map());
  t.is(entries.length, MAX_QUARANTINED);
  t.false(entries.some((e) => e.key === key(0)), 'the oldest went');
});

test('a corrupt quarantine file is one warning, ignored and left as it is; the crash markers still keep their suspects out', (t) => {
  const dir = tempDir();
  const file = path.join(dir, QUARANTINE_FILE);
  for (const text of ['{"version":1,"requests":[{"key":"nothex","at":"2026-01-01T00:00:00Z"}]}', 'not json', '{"version":2,"requests":[]}', '[]']) {
    fs.writeFileSync(file, text);
    const { log, lines } = logger();
    const q = loadQuarantine(dir, [crashed(1000, [key(7)])], [], log);
    t.is(lines.length, 1, text);
    t.regex(lines[0]!, /^preheat: the quarantine file .*quarantine\.json cannot be used \(.+\); it is ignored and left as it is \(remove it\) \[PREHEAT_W019\]\n$/);
    t.is(fs.readFileSync(file, 'utf8'), text);
    t.false(q.saved, 'so the markers are not retired');
    t.deepEqual([...q.keys], [key(7)]);
  }
});

test('a quarantine file is parsed field by field: labels with control characters, huge files and FIFOs are refused', (t) => {
  t.deepEqual(parseQuarantine('{"version":1,"requests":[{"key":"00000000000a","at":"2026-01-01T00:00:00Z","request":"GET /x","extra":1}]}'), [
    { key: '00000000000a', at: '2026-01-01T00:00:00Z', request: 'GET /x' },
  ]);
  t.is(typeof parseQuarantine('{"version":1,"requests":[{"key":"00000000000a","at":"2026-01-01T00:00:00Z","request":"GET /x\\r\\nX: 1"}]}'), 'string');
  t.is(typeof parseQuarantine(JSON.stringify({ version: 1, requests: Array.from({ length: MAX_QUARANTINED + 1 }, (_, i) => ({ key: key(i), at: '2026-01-01T00:00:00Z' })) })), 'string');
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, QUARANTINE_FILE));
  t.regex(readQuarantine(dir).problem!, /not a regular file/);
});
