import test from 'ava';
import { toDevTools } from '../../src/sampler/native-sampler';

test("the addon's 1-based positions, paths and lineTicks become DevTools' 0-based positions, URLs and positionTicks", (t) => {
  const profile = toDevTools({
    nodes: [
      { id: 1, hitCount: 0, callFrame: { functionName: '(root)', scriptId: 0, url: '', lineNumber: 0, columnNumber: 0 }, children: [2] },
      {
        id: 2,
        hitCount: 3,
        callFrame: {
          functionName: 'hot',
          scriptId: 81,
          url: '/srv/my app/a.js',
          lineNumber: 7,
          columnNumber: 13,
          bailoutReason: 'Optimization is always disabled',
          lineTicks: [{ line: 8, hitCount: 3 }],
        },
        children: [],
      },
      { id: 3, hitCount: 1, callFrame: { functionName: 'x', scriptId: 5, url: 'node:fs', lineNumber: 1, columnNumber: 1 }, children: [] },
    ],
    startTime: 10,
    endTime: 20,
    samples: [2, 2, 2, 3],
    timeDeltas: [1, 1, 1, 1],
  });
  const hot = profile.nodes[1]!;
  t.deepEqual(hot.callFrame, { functionName: 'hot', scriptId: '81', url: 'file:///srv/my%20app/a.js', lineNumber: 6, columnNumber: 12 });
  t.deepEqual(hot.positionTicks, [{ line: 8, ticks: 3 }]);
  t.is(hot.deoptReason, 'Optimization is always disabled');
  t.is(profile.nodes[0]!.callFrame.lineNumber, -1);
  t.is(profile.nodes[2]!.callFrame.url, 'node:fs');
  t.deepEqual(profile.samples, [2, 2, 2, 3]);
});
