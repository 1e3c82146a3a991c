import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agent, cleanEnv, cli, run, tempDir, warnings } from './helpers/run';
import { freePort } from './helpers/service';

// The deploy recipes in examples/: what they promise, checked without Docker or Kubernetes.

test('the preheat command never starts the agent that NODE_OPTIONS preloads, through a link as npm installs it', async (t) => {
  const work = tempDir();
  const bin = path.join(work, 'node_modules', '.bin', 'preheat');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.symlinkSync(cli, bin);
  const dir = path.join(work, 'recordings');
  const port = await freePort();
  const env = cleanEnv({ NODE_OPTIONS: `--require ${agent}`, PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_LOG_LEVEL: 'debug' });

  // The same environment starts the agent in any other program: the preload is in force.
  const app = path.join(work, 'app.js');
  fs.writeFileSync(app, '');
  const control = await run(process.execPath, [app], { env, cwd: work });
  t.regex(control.stderr, /^preheat: readiness on http:\/\/127\.0\.0\.1:\d+\/ready$/m, control.stderr);

  fs.rmSync(dir, { recursive: true, force: true });
  const probe = await run(process.execPath, [bin, 'probe'], { env, cwd: work });
  t.is(probe.code, 1);
  // Nothing answered on PREHEAT_PORT: the probe did not start a readiness server of its own to ask.
  t.deepEqual(warnings(probe.stderr), [`preheat: not ready: connect ECONNREFUSED 127.0.0.1:${port}`]);
  t.false(fs.existsSync(dir), 'the probe recorded nothing into PREHEAT_DIR');
});
