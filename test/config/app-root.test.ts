import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveOptions } from '../../src/config/resolve';
import { findAppRoot } from '../../src/profile/app-root';
import { tempDir } from '../helpers/run';

function app(): { root: string; script: string } {
  const root = fs.realpathSync(tempDir());
  fs.writeFileSync(path.join(root, 'package.json'), '{"name": "app"}');
  fs.mkdirSync(path.join(root, 'src'));
  const script = path.join(root, 'src', 'server.js');
  fs.writeFileSync(script, '');
  return { root, script };
}

test('the app root is the package of the entry script, wherever the process was started from', (t) => {
  const { root, script } = app();
  t.deepEqual(findAppRoot(script, '/'), { root, entryIsApp: true });
  const { options } = resolveOptions({}, {}, '/', script);
  t.is(options.root, root);
  t.is(options.dir, path.join(root, '.preheat'), 'a relative PREHEAT_DIR is relative to the app root');
  t.is(resolveOptions({}, { PREHEAT_DIR: 'prof' }, '/', script).options.dir, path.join(root, 'prof'));
});

test('the entry script is followed through links to its real package', (t) => {
  const { root, script } = app();
  const bin = path.join(tempDir(), 'server');
  fs.symlinkSync(script, bin);
  t.is(findAppRoot(bin, '/').root, root);
});

test('without a package, a script, or with a launcher from node_modules, the root is the working directory', (t) => {
  const loose = path.join(fs.realpathSync(tempDir()), 'x.js');
  fs.writeFileSync(loose, '');
  // /tmp has no package.json above it on a test machine; if one had, it would be the root.
  t.is(findAppRoot(loose, '/srv/cwd').root, '/srv/cwd');
  t.deepEqual(findAppRoot(null, '/srv/cwd'), { root: '/srv/cwd', entryIsApp: false });
  const { root } = app();
  const npm = path.join(root, 'node_modules', 'npm', 'bin', 'npm-cli.js');
  fs.mkdirSync(path.dirname(npm), { recursive: true });
  fs.writeFileSync(path.join(root, 'node_modules', 'npm', 'package.json'), '{"name": "npm"}');
  fs.writeFileSync(npm, '');
  t.deepEqual(findAppRoot(npm, '/srv/cwd'), { root: '/srv/cwd', entryIsApp: false });
});

test('PREHEAT_ROOT wins, relative to the working directory', (t) => {
  const { script } = app();
  const { options } = resolveOptions({}, { PREHEAT_ROOT: 'elsewhere' }, '/srv', script);
  t.is(options.root, '/srv/elsewhere');
  t.is(options.dir, '/srv/elsewhere/.preheat');
});

test("a build's unnamed package.json (dist/cjs: only a type) is not the app root; the named package above it is", (t) => {
  const { root } = app();
  const out = path.join(root, 'dist', 'cjs');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type": "commonjs"}');
  const script = path.join(out, 'server.js');
  fs.writeFileSync(script, '');
  t.is(findAppRoot(script, '/').root, root);
  // With no named package above, the nearest package.json still wins over the working directory.
  const lone = fs.realpathSync(tempDir());
  fs.writeFileSync(path.join(lone, 'package.json'), '{"type": "module"}');
  fs.writeFileSync(path.join(lone, 'main.js'), '');
  t.is(findAppRoot(path.join(lone, 'main.js'), '/srv/cwd').root, lone);
});
