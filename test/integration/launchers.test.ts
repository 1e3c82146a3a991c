import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { guest, guestProfile } from '../helpers/guest';
import { agent, cleanEnv, tempDir, warnings } from '../helpers/run';
import { freePort, pollStatus } from '../helpers/service';

// With NODE_OPTIONS preloading the agent, every node process loads it: the package manager that
// starts the app too. Only the app's process may run an agent.
test('npm start under NODE_OPTIONS: npm itself runs no agent, and the app it starts warms and answers /ready', async (t) => {
  const app = tempDir();
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'launched', version: '1.0.0', scripts: { start: `node ${JSON.stringify(guest)}` } }));
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: app,
    detached: true, // its own process group: npm, its shell and the app end together
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({
      NODE_OPTIONS: `--require ${agent}`,
      PREHEAT_MODE: 'warm',
      PREHEAT_DIR: guestProfile([{ url: '/ok', count: 10 }]),
      PREHEAT_PORT: String(port),
      PREHEAT_DEADLINE_MS: '120000',
    }),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const status = await pollStatus(port, (s) => s?.ready || s?.phase === 'stopped', 90_000);
    t.is(status.phase, 'ready', `${JSON.stringify(status)}\n${stderr}`);
    t.true(status.replayed > 0, JSON.stringify(status));
    // One agent, the app's: no second one that found the readiness port taken.
    t.deepEqual(warnings(stderr), [], stderr);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
});
