import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WarmupProfile } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, readJson, run, tempDir, warnings } from '../helpers/run';

/** A copy of text-index in a folder of its own, as an app deployed at /srv/app would be. */
function deployedApp(): string {
  const app = fs.realpathSync(tempDir());
  fs.cpSync(fixture('programs', 'text-index'), app, { recursive: true });
  return app;
}

test('started from another working directory, the agent records the entry script\'s package into its .preheat', async (t) => {
  const app = deployedApp();
  const elsewhere = tempDir();
  const r = await run(process.execPath, ['--require', agent, path.join(app, 'main.js'), '600'], {
    env: cleanEnv({ PREHEAT_MODE: 'record' }),
    cwd: elsewhere,
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(warnings(r.stderr), []);
  t.deepEqual(fs.readdirSync(elsewhere), [], 'nothing is written into the working directory');
  const profile = readJson<WarmupProfile>(path.join(app, '.preheat', 'profile.json'));
  t.is(profile.appRoot, app);
  t.true(profile.hotFunctions.some((f) => f.file === 'lib/score.js'), profile.hotFunctions.map((f) => f.file).join(', '));
});

test('a window with no code under the app root says so once, naming the root', async (t) => {
  const app = deployedApp();
  const root = fs.realpathSync(tempDir());
  const dir = tempDir();
  const r = await run(process.execPath, ['--require', agent, path.join(app, 'main.js'), '600'], {
    env: cleanEnv({ PREHEAT_MODE: 'record', PREHEAT_ROOT: root, PREHEAT_DIR: dir, PREHEAT_WINDOW_MS: '200', PREHEAT_PERIOD_MS: '200' }),
    cwd: root,
  });
  t.is(r.code, 0, r.stderr);
  const w = warnings(r.stderr);
  t.is(w.length, 1, r.stderr);
  t.is(w[0]!.indexOf(`no sampled code is under the app root ${root} `), 'preheat: '.length, w[0]);
  t.regex(w[0]!, /nothing is recorded \(set PREHEAT_ROOT to the app's folder\) \[PREHEAT_W016\]/);
  t.false(fs.existsSync(path.join(dir, 'profile.json')));
});
