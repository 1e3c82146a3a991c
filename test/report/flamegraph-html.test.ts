import test from 'ava';
import type { Finding } from '../../src/analysis/finding';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { renderFlamegraphHtml } from '../../src/report/flamegraph-html';
import { cpuProfileOf } from '../helpers/profiles';

export const hostileNames = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '</script><script>window.__pwned=1</script>',
  'a\u2028b\u2029c',
  "'; window.__pwned=1; '",
];

export function hostileModel() {
  return fromCpuProfile(
    cpuProfileOf([
      {
        name: hostileNames[0]!,
        url: 'file:///srv/<b>app</b>/x.js',
        self: 5,
        children: hostileNames.slice(1).map((name, i) => ({ name, url: `file:///srv/app/${encodeURIComponent(name)}.js`, line: i, self: 10 + i })),
      },
    ]),
  );
}

export const hostileFinding = (frame: number): Finding => ({
  kind: 'string-interning',
  function: '<img src=x onerror="window.__pwned=1">',
  file: '</script><script>alert(2)</script>',
  line: 3,
  share: 0.2,
  evidence: '<b>bold</b> & <i>evidence</i>',
  advice: '<a href="javascript:alert(3)">click</a>',
  frame,
});

test('names, paths and findings from a profile come out inert', (t) => {
  const model = hostileModel();
  const html = renderFlamegraphHtml(model, [hostileFinding(1)], { title: '<title>x</title> & co' });
  const [head, rest] = html.split('<script type="application/json" id="preheat-data">');
  const [json, tail] = rest!.split('</script>');
  // Outside the data, no trace of the hostile text.
  for (const part of [head!, tail!]) {
    t.notRegex(part, /alert|onerror|__pwned|<img|<b>|<i>|javascript:/);
  }
  // Inside it, nothing that could end the script element or start markup.
  t.notRegex(json!, /[<>]|\u2028|\u2029/);
  t.regex(json!, /\\u003cscript\\u003e/);
  t.regex(head!, /<title>&#60;title&#62;x&#60;\/title&#62; &#38; co<\/title>/);
  // Exactly two script elements: the data and the page's own code.
  t.is(html.match(/<script/g)!.length, 2);
});

test('the page can fetch nothing: a CSP without network sources, and no URLs in it', (t) => {
  const html = renderFlamegraphHtml(hostileModel(), [], { title: 'x' });
  t.regex(html, /Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
  t.notRegex(html, /https?:\/\//);
  t.notRegex(html, /<link|<img|@import|url\(/);
});

test('a 100 000-node profile renders in a few MB, with tiny frames hidden and counted', (t) => {
  const children = Array.from({ length: 100_000 }, (_, i) => ({ name: `f${i}`, url: `file:///srv/app/f${i % 100}.js`, line: i % 1000, self: i < 100 ? 5000 : 1 }));
  const model = fromCpuProfile(cpuProfileOf([{ name: 'main', url: 'file:///srv/app/main.js', children }]));
  t.true(model.nodes.length > 100_000);
  const html = renderFlamegraphHtml(model, [], { title: 'big' });
  t.true(html.length < 3 * 1024 * 1024, `${html.length} bytes`);
  t.regex(html, /(\d+) tiny frames hidden/);
  t.is(Number(/(\d+) tiny frames hidden/.exec(html)![1]), 99_900);
});
