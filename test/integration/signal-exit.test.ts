import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile } from '../../src/profile/schema';
import { fixture, tempDir } from '../helpers/run';
import { ending, runProgram, sendOn } from './signal-runs';

type Run = Awaited<ReturnType<typeof runProgram>>;

// Apps bring signal-exit into the process through execa, ora, write-file-atomic, nyc...: v3 and v4
// each re-raise a signal only when they think they are its only listeners. These runs use the real
// packages and take the run without the agent as the oracle.
const app = fixture('signals', 'signal-exit-app.js');
const early = fixture('signals', 'signal-exit-early.js');

interface Case {
  /** signal-exit versions loaded by a preload before the agent, in order. */
  before?: string;
  /** signal-exit versions the app loads (after the agent), in order. */
  after?: string;
  signal?: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
}

async function compare(c: Case, mode: 'record' | 'warm' = 'record'): Promise<{ bare: Run; agent: Run; dir: string; profile: string }> {
  const signal = c.signal ?? 'SIGTERM';
  // Warm mode needs a profile to warm from, or it installs nothing: the app's own recording.
  const dir: string = mode === 'warm' ? (await compare(c)).dir : tempDir();
  const env = { SIGNAL_EXIT: c.after ?? '', SIGNAL_EXIT_EARLY: c.before ?? '', ...c.env };
  const preloads = c.before ? [early] : [];
  const bare = await runProgram({ program: app, withAgent: false, env, preloads, onStdout: sendOn(['busy', signal]) });
  const agent = await runProgram({
    program: app,
    withAgent: true,
    env: { ...env, PREHEAT_MODE: mode, PREHEAT_DIR: dir },
    preloads,
    onStdout: sendOn(['busy', signal]),
  });
  return { bare, agent, dir, profile: path.join(dir, 'profile.json') };
}

const name = (c: Case) =>
  [c.before && `signal-exit ${c.before} loaded before the agent`, c.after && `signal-exit ${c.after} loaded by the app`].filter(Boolean).join(', ');

const cases: Case[] = [
  { after: 'v3' },
  { after: 'v4' },
  { after: 'v3,v4' },
  { after: 'v4,v3' },
  { before: 'v3' },
  { before: 'v4' },
  { before: 'v3,v4' },
  { before: 'v3', after: 'v4' },
  { before: 'v4', after: 'v3' },
  { after: 'v4', signal: 'SIGINT' },
  { before: 'v3', signal: 'SIGINT' },
  { after: 'v3', signal: 'SIGHUP' },
  { before: 'v4', signal: 'SIGHUP' },
];

for (const c of cases) {
  const signal = c.signal ?? 'SIGTERM';
  test(`with ${name(c)}, ${signal} ends the process as it does without the agent and profile.json is written`, async (t) => {
    const { bare, agent, profile } = await compare(c);
    t.false(bare.hung, 'the run without the agent hung');
    t.false(agent.hung, 'the process lived on after the signal');
    t.deepEqual(ending(agent), ending(bare));
    // signal-exit's callbacks ran, and saw the same thing, in both runs.
    t.regex(bare.stdout, /signal-exit v\d: /);
    t.is(agent.stdout, bare.stdout);
    t.is(agent.stderr, '');
    const parsed = parseProfile(fs.readFileSync(profile, 'utf8'));
    t.true(parsed.ok && parsed.profile.hotFunctions.some((f) => f.name === 'checksum'));
  });
}

for (const c of [{ after: 'v3' }, { after: 'v4' }, { before: 'v4', after: 'v3' }] as Case[]) {
  test(`with ${name(c)} and the app's own SIGTERM handler, the app decides the exit code`, async (t) => {
    const { bare, agent, profile } = await compare({ ...c, env: { FIXTURE_EXIT_ON_SIGTERM: '3' } });
    t.false(agent.hung);
    t.deepEqual(ending(bare), { code: 3, signal: null });
    t.deepEqual(ending(agent), ending(bare));
    t.is(agent.stdout, bare.stdout);
    t.true(parseProfile(fs.readFileSync(profile, 'utf8')).ok);
  });
}

// Warm mode keeps one set of hooks for the process's life too (they only take the crash marker
// away): the same endings, the run without the agent still the oracle.
for (const c of [{ after: 'v3' }, { before: 'v4' }, { before: 'v3', after: 'v4' }, { after: 'v4', signal: 'SIGINT' }] as Case[]) {
  const signal = c.signal ?? 'SIGTERM';
  test(`warm mode, with ${name(c)}: ${signal} ends the process as it does without the agent`, async (t) => {
    const { bare, agent } = await compare(c, 'warm');
    t.false(agent.hung, 'the process lived on after the signal');
    t.deepEqual(ending(agent), ending(bare));
    t.is(agent.stdout, bare.stdout);
    t.is(agent.stderr, '');
  });
}
