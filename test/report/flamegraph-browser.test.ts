import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { Finding } from '../../src/analysis/finding';
import { loadInputs } from '../../src/profile/load-inputs';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { renderFlamegraphHtml } from '../../src/report/flamegraph-html';
import { cpuProfileOf } from '../helpers/profiles';
import { outsideProgram } from '../helpers/programs';
import { fixture, run, tempDir } from '../helpers/run';

const chromiumProgram = outsideProgram('chromium');
let browser: Browser;
test.before(async () => {
  if (!chromiumProgram.path) return;
  browser = await chromium.launch({
    executablePath: chromiumProgram.path,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});
test.after.always(async () => {
  await browser?.close();
});

async function realModel() {
  const dir = tempDir();
  // 3 s: under a loaded CI machine 0.8 s was mostly start-up, and the hot function drew narrow (1.5 s
  // once drew it under 20 px, beside a full test run).
  const r = await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, fixture('programs', 'text-index', 'main.js'), '3000']);
  if (r.code !== 0) throw new Error(r.stderr);
  return loadInputs([dir]).model;
}

async function open(html: string) {
  const file = path.join(tempDir(), 'flamegraph.html');
  fs.writeFileSync(file, html);
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, requests, errors, url: pathToFileURL(file).href };
}

chromiumProgram.test('the hot function is drawn; search, zoom, reset and findings work; nothing leaves the page', async (t) => {
  const model = await realModel();
  const frame = model.frames.findIndex((f) => f.name === 'scoreDocument');
  t.true(frame > 0);
  const finding: Finding = { kind: 'string-interning', function: 'scoreDocument', file: 'lib/score.js', line: 5, share: 0.3, evidence: 'e', advice: 'a', frame };
  const { page, requests, errors, url } = await open(renderFlamegraphHtml(model, [finding], { title: 'text-index' }));
  const frames = page.locator('.frame[data-name="scoreDocument"]');
  await frames.first().waitFor();
  // The widest of its frames: under load, start-up can put a narrow one (another caller) first.
  const widths = await Promise.all((await frames.all()).map(async (f) => (await f.boundingBox())?.width ?? 0));
  const hot = frames.nth(widths.indexOf(Math.max(...widths)));
  t.true(Math.max(...widths) > 20, `scoreDocument is drawn wide: ${widths.map(Math.round).join(', ')} px`);

  await page.fill('#search', 'scoreDoc');
  t.true((await page.locator('.frame.match').count()) > 0);
  const share = Number(/search: ([\d.]+)% of samples/.exec(await page.textContent('#search-info') ?? '')![1]);
  t.true(share > 5 && share <= 100, String(share));

  const graphWidth = (await page.locator('#graph').boundingBox())!.width;
  await hot.click();
  const zoomed = (await page.locator('.frame[data-name="scoreDocument"]').first().boundingBox())!;
  t.true(Math.abs(zoomed.width - graphWidth) < 3, `zoomed width ${zoomed.width} of ${graphWidth}`);
  t.regex((await page.textContent('#zoomed')) ?? '', /zoomed to scoreDocument/);

  await page.click('#reset');
  t.is(await page.textContent('#zoomed'), '');
  t.true((await page.locator('.frame[data-name="scoreDocument"]').first().boundingBox())!.width < graphWidth - 3);

  await page.click('.finding');
  t.is(await page.inputValue('#search'), 'scoreDocument');
  t.true((await page.locator('.frame.match').count()) > 0);
  t.regex((await page.textContent('#zoomed')) ?? '', /zoomed to/);

  await page.keyboard.press('Escape');
  t.is(await page.textContent('#zoomed'), '');
  t.deepEqual(errors, []);
  t.deepEqual(requests, [url]);
  await page.close();
});

chromiumProgram.test('hostile names render as text and run nothing', async (t) => {
  const model = fromCpuProfile(
    cpuProfileOf([
      { name: '<img src=x onerror="window.__pwned=1">', url: 'file:///a.js', self: 50, children: [{ name: '</script><script>window.__pwned=2</script>', url: 'file:///b.js', self: 50 }] },
    ]),
  );
  const finding: Finding = { kind: 'gc-pressure', function: '<b onclick="window.__pwned=3">x</b>', file: '', line: 0, share: 0.5, evidence: '<img src=y onerror="window.__pwned=4">', advice: 'a', frame: 1 };
  const { page, requests, url } = await open(renderFlamegraphHtml(model, [finding], { title: '<script>window.__pwned=5</script>' }));
  await page.locator('.frame').first().waitFor();
  t.is(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
  t.is(await page.locator('img').count(), 0);
  t.is(await page.getAttribute('.frame[data-index="1"]', 'data-name'), '<img src=x onerror="window.__pwned=1">');
  t.true(((await page.textContent('#findings')) ?? '').includes('<img src=y onerror="window.__pwned=4">'));
  t.deepEqual(requests, [url]);
  await page.close();
});

chromiumProgram.test('a differential graph colours by change and lists regressions', async (t) => {
  const before = fromCpuProfile(cpuProfileOf([{ name: 'main', url: 'file:///m.js', children: [{ name: 'parse', url: 'file:///p.js', self: 80 }, { name: 'render', url: 'file:///r.js', self: 20 }] }]));
  const after = fromCpuProfile(cpuProfileOf([{ name: 'main', url: 'file:///m.js', children: [{ name: 'parse', url: 'file:///p.js', self: 30 }, { name: 'render', url: 'file:///r.js', self: 70 }] }]));
  const { page } = await open(renderFlamegraphHtml(after, [], { title: 'diff', baseline: before }));
  const rows = await page.locator('#diff-rows tr').allTextContents();
  t.regex(rows[0]!, /^render.*20\.0%70\.0%\+50\.0pt$/);
  t.regex(rows[1]!, /^parse.*80\.0%30\.0%-50\.0pt$/);
  const colour = await page.locator('.frame[data-name="render"]').first().evaluate((el) => (el as unknown as { style: { background: string } }).style.background);
  t.regex(colour, /^rgb\(255, /, 'hotter is red');
  await page.close();
});
