import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile, type WarmupProfile } from '../../src/profile/schema';
import { agent, cleanEnv, cli, fixture, run, tempDir } from '../helpers/run';
import { bootService, get } from '../helpers/service';

// Every other test records at 1 kHz and keeps every request (helpers/run.ts, cleanEnv): these two
// run the agent's real defaults, which a test of a second or two would otherwise never see.
const realDefaults = { PREHEAT_SAMPLE_INTERVAL_MICROS: undefined, PREHEAT_CAPTURE_PER_SECOND: undefined };

function readProfile(dir: string): WarmupProfile {
  const parsed = parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.profile;
}

test('by default a busy service is sampled 25 times a second, and its hot function is recorded', async (t) => {
  const dir = tempDir();
  const service = fixture('programs', 'busy-service.js');
  let busyAt = 0;
  const r = await run(process.execPath, ['--require', agent, service], {
    cwd: path.dirname(service),
    env: cleanEnv({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir, ...realDefaults }),
    onStdout: (out, child) => {
      if (busyAt || !out.includes('busy')) return;
      busyAt = Date.now();
      setTimeout(() => child.kill('SIGTERM'), 4000);
    },
  });
  const seconds = (Date.now() - busyAt) / 1000;
  t.is(r.signal, 'SIGTERM', r.stderr);
  t.is(r.stderr, '');
  const profile = readProfile(dir);
  t.is(profile.sampleIntervalMicros, 40_000);
  t.true(profile.hotFunctions.some((f) => f.name === 'checksum' && f.file === 'busy-service.js'), JSON.stringify(profile.hotFunctions.slice(0, 3)));
  // 25 a second over the run (start-up included, the process busy all along): never the 1000 a
  // second of a 1 kHz sampler; some may be lost to a loaded machine.
  const total = profile.samples.busy + profile.samples.gc + profile.samples.program + profile.samples.native;
  t.true(total >= 10 && total <= (seconds + 2) * 25 * 1.5, `${total} samples in about ${seconds.toFixed(1)} s`);
});

test('by default at most 5 requests a second are recorded, in bursts of up to 5', async (t) => {
  const dir = tempDir();
  // The capture's default only: at 25 samples a second a run this short may sample none of the
  // app's code, and then no profile is written at all (seen on a loaded Node 22).
  const s = await bootService(fixture('services', 'catalog', 'server.js'), { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_CAPTURE_PER_SECOND: undefined });
  const t0 = Date.now();
  for (let i = 0; i < 60; i++) await get(s.port, `/search?q=${['red', 'blue', 'lamp'][i % 3]}`);
  const seconds = (Date.now() - t0) / 1000;
  const exit = await s.stop();
  t.is(exit.code, 0, s.stderr()); // the catalog closes its server and exits on SIGTERM
  const recorded = (readProfile(dir).requests ?? []).reduce((n, r) => n + r.count, 0);
  // The bucket starts full (5) and refills at 5 a second.
  t.true(recorded >= 5, `${recorded} recorded`);
  t.true(recorded <= 5 + Math.ceil(seconds * 5) + 1, `${recorded} of 60 requests recorded in ${seconds.toFixed(2)} s`);
});

test('preheat flame samples at 1 kHz, not at the always-on 25 a second, unless the environment sets a rate', async (t) => {
  const dir = tempDir();
  const script = path.join(dir, 'spin.js');
  fs.writeFileSync(script, 'function spin(ms) { const end = Date.now() + ms; let n = 0; while (Date.now() < end) n++; return n; }\nspin(1500);\n');
  const samples = async (env: NodeJS.ProcessEnv) => {
    const r = await run(process.execPath, [cli, 'flame', '--out', path.join(dir, 'out'), '--', process.execPath, script], { cwd: dir, env: cleanEnv(env) });
    t.is(r.code, 0, r.stderr);
    return Number(/(\d+) JavaScript samples/.exec(r.stdout + r.stderr)?.[1]);
  };
  // 1.5 s of one function: about 1500 samples at 1 kHz, 75 at the 50 a second set below, about 38
  // at 25. A loaded machine gives fewer, the high rate most (signals pile up while the process
  // waits its turn: 162 at 1 kHz was seen), so the check is a factor of two, where 25 a second
  // would give half as many.
  const byDefault = await samples(realDefaults);
  const set = await samples({ PREHEAT_SAMPLE_INTERVAL_MICROS: '20000' });
  t.true(set <= 150, `${set} samples at the rate the environment set`);
  t.true(byDefault >= 2 * set, `${byDefault} samples by default, ${set} at 50 a second`);
});
