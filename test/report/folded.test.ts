import test from 'ava';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { toFolded } from '../../src/report/folded';
import { cpuProfileOf } from '../helpers/profiles';

test('folded stacks list each leaf path once with its count, idle left out', (t) => {
  const model = fromCpuProfile(
    cpuProfileOf([
      { name: 'main', url: 'file:///srv/app/main.js', line: 0, self: 1, children: [{ name: 'hot', url: 'file:///srv/app/hot.js', line: 4, self: 7 }] },
      { name: '(idle)', url: '', self: 50 },
      { name: '(garbage collector)', url: '', self: 2 },
    ]),
  );
  t.is(
    toFolded(model),
    ['(garbage collector) 2', 'main /srv/app/main.js:1 1', 'main /srv/app/main.js:1;hot /srv/app/hot.js:5 7', ''].join('\n'),
  );
});

test('separators inside names cannot split or join stacks', (t) => {
  const model = fromCpuProfile(cpuProfileOf([{ name: 'a;b\nc', url: 'file:///srv/my app;x.js', line: 0, self: 3 }]));
  t.is(toFolded(model), 'a_b_c /srv/my_app_x.js:1 3\n');
});
