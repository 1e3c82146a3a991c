import test from 'ava';
import { fixture, repo, tempDir } from '../helpers/run';
import { bootService, freePort, get, pollStatus } from '../helpers/service';

// V8 killed the process (SIGTRAP, `Check failed: v8_flags.fuzzing`) when the warm-up prepared a
// class's field initializer for optimization: on Node 22 every warm boot of docs-shop (fastify,
// marked) with a filled compile cache died, and about one boot in three without one, on Node 20 too.

const shop = fixture('services', 'docs-shop', 'server.js');

async function recordShop(env: NodeJS.ProcessEnv) {
  const dir = tempDir();
  const appPort = await freePort();
  const rec = await bootService(shop, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PORT: String(appPort), ...env });
  for (let i = 0; i < 200; i++) await get(appPort, i % 2 ? '/products' : `/product/${i}`);
  await rec.stop();
  return { dir, appPort };
}

async function warmBoot(dir: string, appPort: number, env: NodeJS.ProcessEnv) {
  const port = await freePort();
  const s = await bootService(shop, { PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PORT: String(appPort), PREHEAT_DEADLINE_MS: '120000', ...env });
  let diedEarly: string | null = null;
  s.child.on('exit', (code, signal) => (diedEarly ??= `${code} ${signal}`));
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  const early = diedEarly;
  await s.stop();
  return { status, diedEarly: early, stderr: s.stderr() };
}

test("the app's own compile cache (NODE_COMPILE_CACHE), filled, never crashes a warm boot", async (t) => {
  const cache = tempDir();
  const { dir, appPort } = await recordShop({ NODE_COMPILE_CACHE: cache });
  for (let boot = 0; boot < 2; boot++) {
    const r = await warmBoot(dir, appPort, { PREHEAT_MODE: 'warm', NODE_COMPILE_CACHE: cache });
    t.is(r.diedEarly, null, `boot ${boot} ended by the test, not by V8: ${r.stderr.slice(-600)}`);
    t.is(r.status.phase, 'ready', r.status.reason);
  }
});

test("preheat's own compile cache, filled, never crashes a warm boot in auto mode, and the hot set is still optimized", async (t) => {
  // The root takes in the dependencies (fastify, marked), whose classes carry field initializers:
  // docs-shop's own few lines alone were sometimes not sampled at all, and nothing was warmed.
  const { dir, appPort } = await recordShop({ PREHEAT_MODE: 'auto', PREHEAT_ROOT: repo });
  for (let boot = 0; boot < 2; boot++) {
    const r = await warmBoot(dir, appPort, { PREHEAT_MODE: 'auto', PREHEAT_ROOT: repo });
    t.is(r.diedEarly, null, `boot ${boot}: ${r.stderr.slice(-600)}`);
    t.is(r.status.phase, 'ready', r.status.reason);
    t.true(r.status.optimized > 0, JSON.stringify(r.status));
  }
});
