import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PreheatError } from '../../src/errors';
import { loadInputs } from '../../src/profile/load-inputs';
import { toPprof } from '../../src/report/pprof';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { cpuProfileOf } from '../helpers/profiles';
import { fixture, run, tempDir } from '../helpers/run';

test('a node --cpu-prof profile, a pprof file and a directory merge into one model', async (t) => {
  const dir = tempDir();
  const r = await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, fixture('programs', 'text-index', 'main.js'), '300']);
  t.is(r.code, 0);
  t.is(fs.readdirSync(dir).length, 1);
  const pprof = path.join(tempDir(), 'x.pb.gz');
  fs.writeFileSync(pprof, toPprof(fromCpuProfile(cpuProfileOf([{ name: 'fromPprof', self: 9 }]))));
  const { model, inputs } = loadInputs([dir, pprof]);
  t.deepEqual(
    inputs.map((i) => i.kind),
    ['cpuprofile', 'pprof'],
  );
  t.is(model.totalSamples, inputs[0]!.samples + 9);
  t.true(model.frames.some((f) => f.name === 'scoreDocument'));
  t.true(model.frames.some((f) => f.name === 'fromPprof'));
});

const bad: [string, string | Buffer, RegExp][] = [
  ['not JSON', '{"nodes": [', /is not valid JSON/],
  ['JSON of another kind', '{"traceEvents": []}', /is not a \.cpuprofile: it has no "nodes" list/],
  ['a node without a call frame', '{"nodes": [{"id": 1}], "startTime": 0, "endTime": 1}', /node #1 is malformed/],
  ['a binary file', Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]), /is neither a \.cpuprofile \(JSON\) nor a pprof profile/],
  ['a truncated gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]), /is neither a \.cpuprofile \(JSON\) nor a pprof profile/],
];

for (const [label, content, message] of bad) {
  test(`${label} is refused by name`, (t) => {
    const file = path.join(tempDir(), 'input.cpuprofile');
    fs.writeFileSync(file, content);
    const error = t.throws(() => loadInputs([file]), { instanceOf: PreheatError });
    t.regex(error!.message, message);
    t.true(error!.message.startsWith(file));
  });
}

test('a missing input and a directory without profiles are named', (t) => {
  t.throws(() => loadInputs(['/no/such/profile.cpuprofile']), { message: '/no/such/profile.cpuprofile does not exist' });
  const empty = tempDir();
  fs.writeFileSync(path.join(empty, 'profile.json'), '{}');
  t.throws(() => loadInputs([empty]), { message: /holds no \.cpuprofile or pprof files/ });
});
