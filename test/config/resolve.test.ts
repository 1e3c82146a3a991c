import test from 'ava';
import * as path from 'node:path';
import { defaults, envName } from '../../src/config/options';
import { resolveOptions } from '../../src/config/resolve';

test('defaults apply when nothing is set, with dir and root resolved against the working directory', (t) => {
  const { options, problems } = resolveOptions({}, {}, '/srv/app');
  t.deepEqual(problems, []);
  t.is(options.mode, 'auto');
  t.is(options.dir, path.resolve('/srv/app', '.preheat'));
  t.is(options.root, '/srv/app');
  t.is(options.sampleIntervalMicros, defaults.sampleIntervalMicros);
});

test('environment variables are read by their upper snake case names', (t) => {
  t.is(envName('sampleIntervalMicros'), 'PREHEAT_SAMPLE_INTERVAL_MICROS');
  const { options, problems } = resolveOptions(
    {},
    { PREHEAT_MODE: 'Record', PREHEAT_SAMPLE_INTERVAL_MICROS: '500', PREHEAT_DECAY: '0.25', PREHEAT_DIR: 'prof' },
    '/srv/app',
  );
  t.deepEqual(problems, []);
  t.is(options.mode, 'record');
  t.is(options.sampleIntervalMicros, 500);
  t.is(options.decay, 0.25);
  t.is(options.dir, '/srv/app/prof');
});

test('an options object wins over the environment', (t) => {
  const { options } = resolveOptions({ mode: 'off', windowMs: 2000 }, { PREHEAT_MODE: 'record', PREHEAT_WINDOW_MS: '5000' });
  t.is(options.mode, 'off');
  t.is(options.windowMs, 2000);
});

test('each bad value gives one problem naming the variable and the default used', (t) => {
  const { options, problems } = resolveOptions(
    {},
    { PREHEAT_WINDOW_MS: 'ten', PREHEAT_SAMPLER: 'perf', PREHEAT_DECAY: '1.5', PREHEAT_SAMPLE_INTERVAL_MICROS: '5' },
  );
  t.is(problems.length, 4);
  t.regex(problems.join('\n'), /PREHEAT_WINDOW_MS="ten" is not an integer .*; using 60000/);
  t.regex(problems.join('\n'), /PREHEAT_SAMPLER="perf" is not one of auto, native, inspector; using "auto"/);
  t.is(options.windowMs, defaults.windowMs);
  t.is(options.sampler, 'auto');
  t.is(options.decay, defaults.decay);
  t.is(options.sampleIntervalMicros, defaults.sampleIntervalMicros);
});

test('a misspelt PREHEAT_ variable is reported with a suggestion', (t) => {
  const { problems } = resolveOptions({}, { PREHEAT_WINDOW_M: '100' });
  t.deepEqual(problems, ['unknown setting PREHEAT_WINDOW_M; ignored (did you mean PREHEAT_WINDOW_MS?)']);
});

test('unknown option names and wrong types in the options object are reported', (t) => {
  const { options, problems } = resolveOptions({ windowMs: '1000', nope: 1 } as never);
  t.is(options.windowMs, 1000);
  t.deepEqual(problems, ['unknown option "nope"; ignored']);
  const typed = resolveOptions({ maxFunctions: 2.5 });
  t.regex(typed.problems[0]!, /^option maxFunctions=2\.5 is not an integer/);
});

test('a window longer than its period samples continuously', (t) => {
  const { options, problems } = resolveOptions({ windowMs: 5000, periodMs: 1000 });
  t.is(options.windowMs, 1000);
  t.regex(problems[0]!, /longer than its period/);
});
