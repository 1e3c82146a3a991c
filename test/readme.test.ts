import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaults, envName, type Options } from '../src/config/options';
import { repo } from './helpers/run';

const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');

test('the README options table names every option with its variable', (t) => {
  for (const key of Object.keys(defaults) as (keyof Options)[]) {
    t.regex(readme, new RegExp(`\\| \`${envName(key)}\` \\| \`${key}\` \\|`), `${key} is missing from the README`);
  }
});

test('the README test and demo commands exist in package.json', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
  t.truthy(pkg.scripts.test);
  t.truthy(pkg.scripts.demo);
  t.regex(readme, /npm test/);
  t.regex(readme, /npm run demo/);
});
