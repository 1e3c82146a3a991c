import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CpuProfile } from '../../src/profile/cpuprofile';
import { parseProfile } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, nativeSamplerBuilt, readJson, run, tempDir } from '../helpers/run';
import { sampleTimes } from '../helpers/profiles';

const service = fixture('programs', 'busy-service.js');
const INTERVAL_MICROS = 2000;

const samplers = nativeSamplerBuilt ? ['native', 'inspector'] : ['inspector'];

for (const sampler of samplers) {
  test(`${sampler}: continuous recording writes a profile at every window while the app runs, and the windows' samples follow each other`, async (t) => {
    const dir = tempDir();
    const ownFile = () => fs.readdirSync(dir).find((f) => /^profile\..+\.json$/.test(f));
    const cpuprofiles = () => fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    let writtenWhileRunning = false;
    let timer: NodeJS.Timeout | undefined;
    const r = await run(process.execPath, ['--require', agent, service], {
      cwd: path.dirname(service),
      env: cleanEnv({
        PREHEAT_MODE: 'record',
        PREHEAT_DIR: dir,
        PREHEAT_SAMPLER: sampler,
        PREHEAT_SAMPLE_INTERVAL_MICROS: String(INTERVAL_MICROS),
        PREHEAT_WINDOW_MS: '400',
        PREHEAT_PERIOD_MS: '400',
      }),
      onStdout: (out, child) => {
        if (timer || !out.includes('busy')) return;
        // Ends the app once four windows are written (or after 30 s on a very slow machine).
        const started = Date.now();
        timer = setInterval(() => {
          if (!fs.existsSync(dir)) return;
          if (ownFile() && cpuprofiles().length >= 4) writtenWhileRunning = true;
          if (writtenWhileRunning || Date.now() - started > 30_000) {
            clearInterval(timer);
            child.kill('SIGTERM');
          }
        }, 50);
      },
    });
    t.is(r.signal, 'SIGTERM', r.stderr);
    t.true(writtenWhileRunning, 'the profile and four .cpuprofile files were written before the app ended');
    t.is(r.stderr, '');

    const files = cpuprofiles();
    // Window numbers: preheat-<time>-<pid>-<n>.cpuprofile.
    const ordered = files.map((f) => ({ n: Number(/-(\d+)\.cpuprofile$/.exec(f)![1]), p: readJson<CpuProfile>(path.join(dir, f)) })).sort((a, b) => a.n - b.n);
    t.deepEqual(ordered.map((o) => o.n), ordered.map((_, i) => i + 1), 'one file per window, none missing');
    const times = ordered.map((o) => sampleTimes(o.p)).filter((ts) => ts.length);
    const within = times.flatMap((ts) => ts.slice(1).map((x, i) => x - ts[i]!)).sort((a, b) => a - b);
    const p90 = within[Math.floor(within.length * 0.9)]!;
    const gaps = times.slice(1).map((ts, i) => ts[0]! - times[i]!.at(-1)!).sort((a, b) => a - b);
    // The sampler never stopped: window k+1's first sample follows window k's last as samples
    // follow each other inside a window (a stop and a start lost tens of milliseconds here).
    t.true(gaps[gaps.length >> 1]! <= Math.max(5 * p90, 5 * INTERVAL_MICROS), `gaps ${gaps.join(', ')} µs; p90 within ${p90} µs`);
    t.true(gaps[0]! > 0, `no sample in two windows (${gaps[0]} µs)`);

    const parsed = parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    t.true(parsed.ok);
    const profile = (parsed as { ok: true; profile: import('../../src/profile/schema').WarmupProfile }).profile;
    // As signals.test.ts checks it: V8 may inline checksum and slice into Node's processImmediate.
    t.true(profile.hotFunctions.some((f) => f.name === 'checksum' && f.file === 'busy-service.js'), 'the hot function found');
    t.is(profile.samples.busy, ordered.reduce((n, o) => n + o.p.samples!.filter((id) => !isIdle(o.p, id)).length, 0), 'every window counted once');
  });
}

function isIdle(p: CpuProfile, id: number): boolean {
  return p.nodes.find((n) => n.id === id)?.callFrame.functionName === '(idle)';
}
