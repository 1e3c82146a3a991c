import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { functionStats } from '../../src/analysis/function-stats';
import { fromPprof } from '../../src/profile/from-pprof';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { toPprof } from '../../src/report/pprof';
import { cpuProfileOf } from '../helpers/profiles';
import { outsideProgram } from '../helpers/programs';
import { tempDir } from '../helpers/run';

const model = () =>
  fromCpuProfile(
    cpuProfileOf([
      {
        name: 'main',
        url: 'file:///srv/app/main.js',
        line: 0,
        self: 1,
        children: [
          { name: 'hotLoop', url: 'file:///srv/app/lib/hot.js', line: 4, self: 60, ticks: [[6, 45], [7, 15]] },
          { name: 'render', url: 'file:///srv/app/lib/render.js', line: 9, self: 20 },
        ],
      },
      { name: '(garbage collector)', url: '', self: 5 },
      { name: '(idle)', url: '', self: 100 },
    ]),
  );

const byName = (m: ReturnType<typeof model>) => {
  const { stats } = functionStats(m);
  return Object.fromEntries([...stats.values()].map((s) => [m.frames[s.frame]!.name, { self: s.self, total: s.total, lines: s.lines }]));
};

test('pprof written and read back keeps every function, its counts and its line ticks (idle left out)', (t) => {
  const back = fromPprof(toPprof(model()));
  const b = byName(back);
  t.deepEqual(b.hotLoop, { self: 60, total: 60, lines: { 6: 45, 7: 15 } });
  t.is(b.render!.self, 20);
  t.is(b.main!.total, 81);
  t.is(b['(garbage collector)']!.self, 5);
  t.false('(idle)' in b);
  t.is(back.frames.find((f) => f.name === 'hotLoop')!.url, 'file:///srv/app/lib/hot.js');
});

outsideProgram('go').test('go tool pprof reads profile.pb.gz and names the hot function', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'profile.pb.gz');
  fs.writeFileSync(file, toPprof(model()));
  const out = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=5', file], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', PPROF_TMPDIR: dir },
  });
  const lines = out.split('\n');
  const header = lines.findIndex((l) => /flat%/.test(l));
  // The first row of -top is the function with the most flat (self) time.
  t.regex(lines[header + 1] ?? '', /^\s*60ms\s.*\shotLoop$/, out);
  t.regex(out, /81ms .* main/);
  t.regex(out, /Type: samples|Type: cpu/);
});
