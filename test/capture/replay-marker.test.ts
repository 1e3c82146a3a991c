import test from 'ava';
import { createReplayMarker, REPLAY_HEADER } from '../../src/capture/replay-marker';
import { REPLAY_HEADER as REEXPORTED } from '../../src/capture/request-capture';

test('a marker is 32 random hex characters, different at every boot', (t) => {
  const a = createReplayMarker();
  const b = createReplayMarker();
  t.is(a.header, 'x-preheat-replay');
  t.is(REPLAY_HEADER, 'x-preheat-replay');
  t.is(REEXPORTED, REPLAY_HEADER);
  t.regex(a.value, /^[0-9a-f]{32}$/);
  t.not(a.value, b.value);
});

test("only this boot's value marks a request as a replay", (t) => {
  const marker = createReplayMarker();
  const other = createReplayMarker();
  t.true(marker.isReplay({ [REPLAY_HEADER]: marker.value }));
  for (const forged of ['1', 'true', '', other.value, marker.value.toUpperCase(), marker.value.slice(0, 31), `${marker.value}0`, ` ${marker.value}`]) {
    t.false(marker.isReplay({ [REPLAY_HEADER]: forged }), JSON.stringify(forged));
  }
  t.false(marker.isReplay({}));
  t.false(marker.isReplay({ 'x-other': marker.value }));
});

test("a cluster worker adopts its primary's value: it sends that value and accepts both", (t) => {
  const worker = createReplayMarker();
  const primary = createReplayMarker();
  const own = worker.value;
  worker.adopt(primary.value);
  t.is(worker.value, primary.value);
  t.true(worker.isReplay({ [REPLAY_HEADER]: primary.value }));
  t.true(worker.isReplay({ [REPLAY_HEADER]: own }));
  t.false(worker.isReplay({ [REPLAY_HEADER]: createReplayMarker().value }));
  worker.adopt('not hex');
  t.is(worker.value, primary.value, 'a value that is not a marker is refused');
});
