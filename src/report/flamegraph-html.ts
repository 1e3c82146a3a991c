import { createHash } from 'node:crypto';
import type { Finding } from '../analysis/finding';
import type { Frame, StackModel } from '../profile/stack-model';
import { selfShareDiff } from './diff';
import { CLIENT_JS } from './flamegraph/client';
import { displayUrl, layout, type FlameData } from './flamegraph/layout';

export interface FlamegraphOptions {
  title: string;
  /** Differential mode: colour each frame by its change in self share from this profile. */
  baseline?: StackModel;
  /** How to show a frame's place (source-mapped, relative): `file:line`. */
  displayFile?: (url: string, line: number) => string;
  /** Native frames carry cost categories (`preheat flame --native`): colour by them, with a legend. */
  categories?: boolean;
}

/**
 * One self-contained HTML file: the flame graph, search, zoom and the findings beside it. No
 * network: scripts and styles are inline and a Content-Security-Policy forbids every fetch.
 * All profile text goes in as escaped JSON and out through textContent.
 */
export function renderFlamegraphHtml(model: StackModel, findings: Finding[], options: FlamegraphOptions): string {
  const where = options.displayFile ?? ((url, line) => `${displayUrl(url)}:${line}`);
  let deltaOf: ((f: Frame) => number) | undefined;
  let diff: FlameData['diff'];
  if (options.baseline) {
    const rows = selfShareDiff(options.baseline, model);
    const byKey = new Map(rows.map((r) => [`${r.name}\u0000${r.url}\u0000${r.line}`, r.delta]));
    deltaOf = (f) => byKey.get(`${f.name || '(anonymous)'}\u0000${f.url}\u0000${f.line}`) ?? 0;
    const top = (list: typeof rows) => list.slice(0, 15).map((r) => ({ name: r.name, where: r.url ? where(r.url, r.line) : '(native)', before: r.before, after: r.after, delta: r.delta }));
    diff = { rows: [...top(rows.filter((r) => r.delta > 0)), ...top(rows.filter((r) => r.delta < 0))] };
  }
  const data = layout(model, findings, options.title, where, deltaOf);
  if (diff) data.diff = diff;
  const json = safeJson(data);
  const hash = createHash('sha256').update(CLIENT_JS).digest('base64');
  const title = escapeHtml(options.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLES}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <div class="controls">
    <input id="search" type="search" placeholder="Search functions and files" aria-label="Search">
    <button id="reset" type="button">Reset zoom</button>
    <span id="search-info"></span>
    <span id="zoomed"></span>
  </div>
  <p class="meta">${data.total} samples${data.hidden ? ` · ${data.hidden} tiny frames hidden (under ${0.05}% each)` : ''} · click a frame to zoom, Escape to reset${
    options.baseline ? ' · colour: red = more self time than before, blue = less' : options.categories ? '' : ' · colour: app, dependencies, Node internals, native/GC'
  }</p>${options.categories ? LEGEND : ''}
</header>
<main>
  <section id="graph-wrap"><div id="graph"></div></section>
  <aside>
    ${options.baseline ? '<h2>Biggest changes in self time</h2><table class="diff"><thead><tr><th>function</th><th>where</th><th>before</th><th>after</th><th>change</th></tr></thead><tbody id="diff-rows"></tbody></table>' : ''}
    <h2>Findings</h2>
    <ol id="findings"></ol>
  </aside>
</main>
<div id="tip" hidden></div>
<script type="application/json" id="preheat-data">${json}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

/** JSON that cannot end the script element or start markup, whatever the strings hold. */
function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The native cost categories' colours, as drawn (`preheat flame --native`). */
const LEGEND = `<p class="legend">${(
  [
    ['app', 'app JavaScript'],
    ['deps', 'dependencies'],
    ['node', 'Node internals'],
    ['exceptions', 'exceptions'],
    ['string-table', 'string table'],
    ['megamorphic-ic', 'megamorphic ICs'],
    ['deopt', 'deoptimization'],
    ['gc', 'GC'],
    ['regexp', 'regexp'],
    ['json', 'JSON'],
    ['compiler', 'compilers'],
    ['runtime', 'other native'],
    ['kernel', 'kernel'],
  ] as const
)
  .map(([c, label]) => `<span class="swatch cat-${c}"></span>${label}`)
  .join(' ')}</p>`;

const STYLES = `
*{box-sizing:border-box}body{margin:0;font:13px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;color:#222;background:#fafafa}
header{padding:10px 16px;border-bottom:1px solid #ddd;background:#fff}h1{font-size:16px;margin:0 0 6px}
.controls{display:flex;gap:8px;align-items:center;flex-wrap:wrap}#search{width:280px;padding:4px 6px}
button{padding:4px 10px}.meta{margin:6px 0 0;color:#666;font-size:12px}#search-info{font-weight:600;color:#6a1b9a}#zoomed{color:#555}
main{display:flex;gap:12px;padding:12px 16px;align-items:flex-start}#graph-wrap{flex:1;min-width:0;overflow:auto}
#graph{position:relative;width:100%}
.frame{position:absolute;height:17px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-size:11px;line-height:17px;padding:0 3px;
border:1px solid rgba(255,255,255,.7);border-radius:2px;cursor:pointer;color:#111}
.frame:hover{filter:brightness(.9)}.frame.ancestor{opacity:.55}
.cat-app{background:#f4a259}.cat-deps{background:#f6d365}.cat-node{background:#9ccbe8}.cat-native{background:#c5b3e6}.cat-gc{background:#e88f8f}.cat-program{background:#d6d6d6}
.cat-exceptions{background:#e53935;color:#fff}.cat-string-table{background:#8e24aa;color:#fff}.cat-megamorphic-ic{background:#3949ab;color:#fff}.cat-deopt{background:#f06292}
.cat-regexp{background:#00897b;color:#fff}.cat-json{background:#7cb342}.cat-compiler{background:#b0bec5}.cat-runtime{background:#d7ccc8}.cat-kernel{background:#bdbdbd}.cat-profiler{background:#eeeeee}
.legend{margin:6px 0 0;font-size:12px;color:#444}.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin:0 3px 0 10px;vertical-align:-1px}.swatch:first-child{margin-left:0}
.frame.match{background:#d81b60 !important;color:#fff}
aside{width:380px;flex:none}aside h2{font-size:14px;margin:4px 0 8px}#findings{padding-left:18px;margin:0}
.finding{background:#fff;border:1px solid #e2e2e2;border-radius:4px;padding:8px;margin-bottom:8px;cursor:pointer}
.finding:hover{border-color:#d81b60}.finding .kind{font-weight:700;color:#b71c1c}.finding .fn{font-family:ui-monospace,monospace;margin:2px 0}
.finding .evidence{color:#333}.finding .advice{color:#1b5e20;margin-top:4px}
table.diff{border-collapse:collapse;width:100%;margin-bottom:12px;font-size:12px}table.diff td,table.diff th{border-bottom:1px solid #eee;padding:2px 4px;text-align:left}
tr.worse td:last-child{color:#b71c1c}tr.better td:last-child{color:#0d47a1}
#tip{position:absolute;max-width:300px;background:#222;color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;pointer-events:none;word-break:break-all}
`;
