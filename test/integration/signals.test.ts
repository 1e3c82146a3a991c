import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, run, tempDir } from '../helpers/run';
import { ending, runProgram, sendOn } from './signal-runs';

const service = fixture('programs', 'busy-service.js');

/** Runs the busy service (optionally under the agent) and sends `signal` once it has worked a while. */
function runUntilSignal(signal: NodeJS.Signals, env: NodeJS.ProcessEnv, withAgent: boolean) {
  let sent = false;
  return run(process.execPath, [...(withAgent ? ['--require', agent] : []), service], {
    env: cleanEnv(env),
    cwd: path.dirname(service),
    onStdout: (out, child) => {
      if (!sent && out.includes('busy')) {
        sent = true;
        child.kill(signal);
      }
    },
  });
}

// SIGHUP too: a terminal closing is a normal end of a recording session run by hand.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} mid-run leaves a valid profile.json and the app dies by ${signal} as it would alone`, async (t) => {
    const dir = tempDir();
    const bare = await runUntilSignal(signal, {}, false);
    const r = await runUntilSignal(signal, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir }, true);
    t.is(bare.signal, signal);
    t.is(r.signal, bare.signal);
    t.is(r.code, bare.code);
    t.is(r.stderr, '');
    const parsed = parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    t.true(parsed.ok);
    t.true(parsed.ok && parsed.profile.hotFunctions.some((f) => f.name === 'checksum' && f.file === 'busy-service.js'));
  });
}

test("the app's own SIGTERM handler still decides the exit code", async (t) => {
  const dir = tempDir();
  const r = await runUntilSignal('SIGTERM', { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, FIXTURE_EXIT_ON_SIGTERM: '42' }, true);
  t.is(r.code, 42);
  t.is(r.signal, null);
  t.regex(r.stdout, /app: graceful shutdown/);
  t.true(parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')).ok);
});

test('a long run writes profile.json after each window and keeps only the newest .cpuprofile files', async (t) => {
  const dir = tempDir();
  let sawProfileWhileRunning = false;
  const r = await run(process.execPath, ['--require', agent, service], {
    env: cleanEnv({
      PREHEAT_MODE: 'record',
      PREHEAT_DIR: dir,
      PREHEAT_WINDOW_MS: '150',
      PREHEAT_PERIOD_MS: '300',
      PREHEAT_MAX_CPUPROFILES: '2',
    }),
    cwd: path.dirname(service),
    onStdout: (_out, child) => {
      if (sawProfileWhileRunning) return;
      // Poll until the first window's write shows up, with the app still running; then stop it.
      const poll = setInterval(() => {
        const windows = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length;
        if (fs.existsSync(path.join(dir, 'profile.json')) && windows >= 2) {
          sawProfileWhileRunning = child.exitCode === null;
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 50);
    },
  });
  t.true(sawProfileWhileRunning);
  t.is(r.signal, 'SIGTERM');
  const kept = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  t.is(kept.length, 2, kept.join(', '));
  t.true(parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')).ok);
});

const stretch = fixture('signals', 'sync-stretch.js');

for (const where of ['main', 'timer'] as const) {
  test(`SIGTERM during the last synchronous stretch (${where === 'main' ? 'the main script' : 'a timer callback'}) ends the process by SIGTERM once the stretch is over`, async (t) => {
    const dir = tempDir();
    // The program computes until this file exists; the file is made after the signal is sent.
    const until = (name: string) => path.join(dir, name);
    const go = (withAgent: boolean, marker: string) =>
      runProgram({
        program: stretch,
        withAgent,
        env: { STRETCH_IN: where, STRETCH_UNTIL: marker, ...(withAgent ? { PREHEAT_MODE: 'record', PREHEAT_DIR: path.join(dir, 'rec') } : {}) },
        onStdout: sendOn(['looping', 'SIGTERM', () => fs.writeFileSync(marker, '')]),
      });
    const bare = await go(false, until('bare'));
    const r = await go(true, until('agent'));
    t.false(r.hung);
    t.is(bare.signal, 'SIGTERM');
    // Under the agent the signal waits for the stretch to end (JavaScript is not interrupted)...
    t.regex(r.stdout, /loop done/);
    // ...and then ends the process the way it would have ended it at once without the agent.
    t.deepEqual(ending(r), ending(bare));
    t.true(parseProfile(fs.readFileSync(path.join(dir, 'rec', 'profile.json'), 'utf8')).ok);
  });
}

test('process.exit(3) in the app\'s SIGTERM handler gives exit code 3, as without the agent', async (t) => {
  const dir = tempDir();
  const env = { FIXTURE_EXIT_ON_SIGTERM: '3' };
  const bare = await runProgram({ program: service, withAgent: false, env, onStdout: sendOn(['busy', 'SIGTERM']) });
  const r = await runProgram({
    program: service,
    withAgent: true,
    env: { ...env, PREHEAT_MODE: 'record', PREHEAT_DIR: dir },
    onStdout: sendOn(['busy', 'SIGTERM']),
  });
  t.false(r.hung);
  t.deepEqual(ending(r), ending(bare));
  t.is(r.stdout, bare.stdout);
  t.true(parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')).ok);
});

test('a SIGTERM handler the app installs later takes the first SIGTERM; the second ends the process by SIGTERM', async (t) => {
  const program = fixture('signals', 'sigterm-twice.js');
  const dir = tempDir();
  const steps = () => sendOn(['handler installed', 'SIGTERM'], ['draining', 'SIGTERM']);
  const bare = await runProgram({ program, withAgent: false, onStdout: steps() });
  const r = await runProgram({ program, withAgent: true, env: { PREHEAT_MODE: 'record', PREHEAT_DIR: dir }, onStdout: steps() });
  t.false(r.hung);
  t.is(bare.signal, 'SIGTERM');
  t.deepEqual(ending(r), ending(bare));
  t.is(r.stdout, bare.stdout);
  t.is(r.stderr, '');
  t.true(parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')).ok);
});
