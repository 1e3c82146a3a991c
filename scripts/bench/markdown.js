'use strict';
// BENCHMARKS.md from the JSON results of one `npm run bench`.
const fs = require('node:fs');
const path = require('node:path');

function read(dir, name) {
  try {
    const file = path.join(dir, `${name}.json`);
    return { date: fs.statSync(file).mtime.toISOString().slice(0, 10), ...JSON.parse(fs.readFileSync(file, 'utf8')) };
  } catch {
    return null;
  }
}

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Requests sent during the warm-up (preheat's /status count at ready, or the naive replay's own), median of the runs. */
function replayedIn(runs) {
  const xs = runs.map((x) => x.sent ?? x.atReady?.replayed).filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!xs.length) return '–';
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : Math.round((xs[m - 1] + xs[m]) / 2);
}

/** A ratio cell: median [95% interval of the median] (mean [t-interval]). */
function ratioCell(x) {
  return x ? `${x.median} [${x.medianCi.join('–')}] (mean ${x.mean} [${x.meanCi.join('–')}])` : '–';
}

/** One moment of recording: each agent arm against the agent-less one. */
function overheadTable(r) {
  const names = Object.keys(r.arms);
  const bare = r.arms[names[0]];
  const rows = [];
  for (const name of names.slice(1)) {
    const a = r.arms[name];
    const label = names.length > 2 ? `${name}: ` : '';
    rows.push(
      [`${label}CPU per request (µs)`, bare.cpuMicrosPerRequest, a.cpuMicrosPerRequest, ratioCell(a.cpuPerRequestRatio)],
      [`${label}throughput (req/s)`, bare.rps, a.rps, ratioCell(a.throughputRatio)],
      [`${label}p99 latency (ms)`, bare.p99Ms, a.p99Ms, ratioCell(a.p99Ratio)],
      [`${label}resident memory (MB)`, bare.rssMb, a.rssMb, `+${a.rssDeltaMb.median} [${a.rssDeltaMb.medianCi.join('–')}]`],
      [`${label}V8 profiler thread (ms of CPU per s)`, '–', a.profilerMsPerSecond, '–'],
    );
    if (a.bootCpuMs !== undefined) rows.push([`${label}CPU before listening (ms)`, bare.bootCpuMs, a.bootCpuMs, '–']);
  }
  return [`${r.rounds} rounds, each of fresh processes measured at the same time in batches of ${r.batchMs} ms.`, '', table(['', 'without agent', 'with agent', 'ratio: median [95% CI] (mean [95% CI])'], rows)].join('\n');
}

function overheadSection(o) {
  const out = [
    '',
    `## Agent overhead: record mode (Node ${o.node})`,
    '',
    'CPU per request is the service process\'s CPU time (every thread, V8\'s profiler thread too) over the requests it answered; ' +
      'each round starts fresh processes, with and without the agent, and loads them at the same time, so a slowdown of the shared machine falls on both; ' +
      'the ratio is paired within a round and the intervals are over rounds (bootstrap for the median, t for the mean). ' +
      '"Busiest moment": the default sampling rate with a window ending (rotation and writes) every 10 s instead of every 60 s, so each 10 s holds a window\'s end and its whole write ("before": 1 kHz, stopped and started every 10 s). ' +
      '"Whole periods": the real defaults, 65 s a round. "First minute": `auto` mode with no profile yet, measured from the first request after listening. ' +
      'docs/overhead.md explains the measurement and its limits on this machine.',
  ];
  const moments = [['busiest', 'busiest moment'], ['periods', 'whole periods'], ['boot', 'first minute after boot']];
  for (const [service, r] of Object.entries(o.services)) {
    for (const [key, title] of moments) if (r[key]) out.push('', `### ${service}: ${title}`, '', overheadTable(r[key]));
    if (r.attribution) {
      const a = r.attribution;
      out.push('', `Direct cost by \`perf record\` of an agent process (${a.samples} samples over ${a.seconds} s, ${a.cpuMsPerSecond} ms of CPU per s): the agent ${a.agentPercent}% (${a.agentMsPerSecond} ms/s) — ${Object.entries(a.percent).filter(([k]) => k !== 'app').map(([k, v]) => `${k} ${v}%`).join(', ')}.`);
    }
  }
  return out;
}

/**
 * One row per Node, service, moment and agent arm, from overhead.json (`npm run bench`'s Node)
 * and the overhead-node<N>.json files of `overhead.js --node … --json` runs on other versions:
 * the issue's goal is judged on every Node, and the control arm (a second agent-less process)
 * says how far from 1 this machine's own noise puts a ratio.
 */
function overheadSummary(dir) {
  // overhead.json is `npm run bench`'s Node (20): first, then the others by version.
  const major = (f) => Number(/node(\d+)/.exec(f)?.[1] ?? 0);
  const files = fs.readdirSync(dir).filter((f) => /^overhead(-node\d+)?\.json$/.test(f)).sort((a, b) => major(a) - major(b));
  const rows = [];
  for (const f of files) {
    const o = read(dir, f.replace(/\.json$/, ''));
    if (!o?.services) continue;
    for (const [service, r] of Object.entries(o.services)) {
      for (const [key, title] of [['busiest', 'busiest moment'], ['periods', 'whole periods'], ['boot', 'first minute, auto']]) {
        if (!r[key]) continue;
        for (const [name, a] of Object.entries(r[key].arms).slice(1)) {
          const c = a.cpuPerRequestRatio;
          const r3 = (x) => (typeof x === 'number' ? +x.toFixed(3) : '–');
          const mb = a.rssDeltaMb.median;
          rows.push([o.node, service, title, name, r[key].rounds, `${r3(c.median)} [${c.medianCi.map(r3).join('–')}]`, r3(a.throughputRatio.median), r3(a.p99Ratio.median), `${mb >= 0 ? '+' : ''}${mb.toFixed(1)}`, a.profilerMsPerSecond ? r3(a.profilerMsPerSecond) : '–']);
        }
      }
    }
  }
  if (!rows.length) return [];
  return [
    '',
    '### Every Node, in one table',
    '',
    'Medians of the per-round ratios to the agent-less process, the 95% bootstrap interval of the CPU ratio beside it. "control (no agent)" is a second agent-less process loaded beside the others: its ratio is the bench\'s own noise, and an agent figure inside the control\'s spread says nothing either way. ' +
      'The goal: CPU per request at most 1.01 (upper bound of the interval), throughput at least 0.99, p99 at most 1.02, RSS at most +20 MB.',
    '',
    table(['Node', 'service', 'moment', 'arm', 'rounds', 'CPU per request [95% CI]', 'throughput', 'p99', 'RSS (MB)', 'profiler thread (ms/s)'], rows),
  ];
}

function writeMarkdown(dir) {
  const m = read(dir, 'machine');
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${m.date}: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Node ${m.node}. ` +
      'Ratios are measured within one run with the contenders alternated; medians, with the range where several runs were made. ' +
      'The raw results are in `bench-results/`.',
  ];
  // Results of the earlier warm-up benchmark (before the race against naive replay) keep their table.
  for (const name of ['warmup-docs-shop', 'warmup-catalog']) {
    const w = read(dir, name);
    if (!w || w.naiveToMatch) continue;
    parts.push(
      '',
      `## Warm-up effect: ${w.service}`,
      '',
      `${w.runs} run(s). "first 10" and "first 100" are the mean latency of the first requests after ready, "median of first ${w.measuredRequests}" their median, each divided by the same figure at steady state (after a long run). Naive warm-up fires the same recorded requests before taking traffic, for as long as preheat's warm-up took in the same round. The first requests go one at a time, so their throughput is 1/latency: "to 95% of peak" is the time from ready until 50 requests in a row first ran at 95% of the steady throughput.`,
      '',
      table(
        ['contender', 'ready after (ms)', 'first 10', 'first 100', `median of first ${w.measuredRequests}`, 'steady median (ms)', 'to 95% of peak throughput (ms after ready)', 'failed requests'],
        Object.entries(w.summary).map(([k, s]) => [k + (s.optimizedOfHot ? ` (optimized ${s.optimizedOfHot})` : ''), s.readyMs, `${s.first10}×`, `${s.first100}×`, `${s.firstNmedian}×`, s.steadyMedianMs, s.timeTo95Ms ?? `not within ${w.measuredRequests} requests`, s.failed]),
      ),
    );
  }
  const races = ['docs-shop', 'catalog', 'json-server', 'graphql', 'ssr'].map((n) => read(dir, `warmup-${n}`)).filter((w) => w?.naiveToMatch);
  if (races.length) {
    const w0 = races[0];
    parts.push(
      '',
      '## Warm-up: the race against naive replay',
      '',
      `After each contender says ready: its first ${w0.measuredRequests} requests one at a time; then more at concurrency 4 (the number is given per service) and a 1 s pause; then ${w0.measuredRequests} more one at a time, the steady state of the same process. ` +
        `Each cell is the median latency of the first 10 / 100 / ${w0.measuredRequests} requests divided by that steady median (the mean over the steady mean in parentheses); medians over the alternated runs, the range of the median ratio beside the first 100. ` +
        'Cold takes traffic as soon as it listens. Naive replay sends the same recorded requests in the same proportions and order and at the same concurrency as preheat\'s replay, from the benchmark\'s process, for the multiples of the warm-up time (listen to ready) preheat took in the same round that each table names. ' +
        `The measured clients send \`accept-encoding: gzip, deflate, br\`, and so did the recording's clients; ${races.every((w) => w.replayedEncoding) ? 'the recorded requests carry it, so both replays send it' : 'in the races marked "without accept-encoding", recorded before the capture kept that header, neither replay sent it'}. Recorded with \`PREHEAT_STEADY_AFTER_MS=${w0.steadyAfterMs}\`, so preheat's readiness rule is the latency one.`,
    );
    for (const w of races) {
      const n = w.measuredRequests;
      const m = w.naiveToMatch;
      const p = w.summary.preheat;
      parts.push(
        '',
        `### ${w.service} (Node ${w.node}, ${w.runs} runs on ${w.date}, steady state after ${w.settleRequests} more requests${w.replayedEncoding ? "" : ", without accept-encoding"})`,
        '',
        table(
          ['contender', 'ready after (ms from spawn)', 'warm-up (ms)', 'requests replayed in it', 'first 10', 'first 100', `first ${n}`, 'steady median (ms)', 'failed'],
          Object.entries(w.summary).map(([k, s]) => [
            k + (s.optimizedOfHot ? ` (optimized ${s.optimizedOfHot})` : ''),
            s.readyMs,
            s.warmMs,
            replayedIn(w.results[k]),
            `${s.median[10]}× (${s.mean[10]}×)`,
            `${s.median[100]}× (${s.mean[100]}×) [${s.medianRange[100].join('–')}]`,
            `${s.median[n]}× (${s.mean[n]}×)`,
            s.steadyMedianMs,
            s.failed,
          ]),
        ),
        '',
        m.beyond
          ? `**Naive replay did not reach preheat's first-100 ratio (${p.median[100]}×) within ${m.multiple}× preheat's warm-up time.**`
          : m.atMost
            ? `**Naive replay reached preheat's first-100 ratio (${p.median[100]}×) already at ${m.multiple}× preheat's warm-up time (${p.warmMs} ms): no lead for preheat here.**`
            : `**Naive replay needs ${m.multiple}× preheat's warm-up time (${m.ms} ms against ${p.warmMs} ms) to match preheat's first-100 ratio (${p.median[100]}×)**, interpolated between the multiples measured.`,
      );
      for (const v of w.variants ?? []) {
        parts.push('', `"preheat ${v.name}" is preheat with ${Object.entries(v.env).map(([k, x]) => `\`${k}=${x}\``).join(', ')}, alternated with the others.`);
      }
      // More warm-up time should never make the first requests slower: where it does, the
      // differences are this machine's noise, and the figure above is as weak as they are.
      const naive = w.multiples.map((k) => w.summary[`naive ${k}x`].median[100]);
      if (naive.some((r, i) => i > 0 && r > naive[i - 1])) {
        parts.push('', `The naive replay's first-100 ratios (${naive.map((r, i) => `${w.multiples[i]}×: ${r}×`).join(', ')}) do not fall as its time grows: the differences here are within the run-to-run noise.`);
      }
    }
  }
  const o = read(dir, 'overhead');
  if (o?.services) parts.push(...overheadSection(o));
  parts.push(...overheadSummary(dir));
  const c = read(dir, 'overhead-default-cycle');
  if (c?.services) {
    parts.push(
      '',
      '### Whole default periods, measured apart',
      '',
      `\`node scripts/bench/overhead.js --default-cycle N\` (too long for \`npm run bench\`), Node ${c.node}, on ${c.date}: one-second batches over whole periods of the agent's defaults.`,
    );
    for (const [service, r] of Object.entries(c.services)) parts.push('', `**${service}**`, '', overheadTable(r.periods));
  }
  const s = read(dir, 'startup');
  if (s) {
    parts.push(
      '',
      '## Agent start-up',
      '',
      `A program that exits at once, ${s.runs} alternated runs each.`,
      '',
      table(['', 'median (ms)', 'p10–p90 (ms)'], Object.keys(s.medianMs).map((k) => [k, s.medianMs[k], s.p10p90Ms[k].join('–')])),
      '',
      `Added by the agent: native sampler ${s.addedMedianMs.native} ms, inspector sampler ${s.addedMedianMs.inspector} ms.`,
    );
  }
  const fd = read(dir, 'findings');
  if (fd) {
    const rows = findingsRows(fd, (r, kind, c, cells) => [r.set, r.node, kind, ...cells, c.unconfirmedFalse, c.wrongKind]);
    parts.push(
      '',
      '## Findings: recall and precision on the labelled corpus',
      '',
      `\`scripts/bench/findings.js\`: each program of \`fixtures/corpus\` runs under \`node --cpu-prof\` for ${fd.ms} ms and is reported as \`preheat report\` reports it; a finding matches a label by kind, function and line. ` +
        '"own" are the programs written by the detectors\' authors; "blind-*" were written from the kinds\' definitions only, by someone who had not read the detectors, and blind-b is kept as a check nobody tunes on. ' +
        'Precision counts confirmed findings; an unconfirmed one (a hot built-in call inside a catch, which the samples cannot judge) on a look-alike is counted apart.',
      '',
      table(['set', 'Node', 'kind', 'recall', 'precision', 'unconfirmed on look-alikes', 'under a wrong kind'], rows),
    );
  }
  const fn = read(dir, 'findings-native');
  if (fn) {
    const rows = findingsRows(fn, (r, kind, c, cells) => [r.run, r.set, r.node, kind, ...cells, c.wrongKind]);
    const misses = fn.results.flatMap((r) => r.details.filter((d) => d.error || d.missed?.length || d.extra?.length).map((d) => `run ${r.run}, ${r.node}, ${r.set}/${d.file}: ${d.error ?? [...d.missed.map((e) => `missed ${e.kind} ${e.function}:${e.line}`), ...d.extra.map((f) => `extra ${f.kind} ${f.function}:${f.line}`)].join(', ')}`));
    parts.push(
      '',
      '### The same corpus under `preheat flame --native`',
      '',
      `\`scripts/bench/findings.js --native --runs ${Math.max(...fn.results.map((r) => r.run))}\` (too long for \`npm run bench\`): each program runs under \`preheat flame --native\` for ${fn.ms} ms, where the native frames confirm or refute a suspected built-in throw and V8's log measures deopt loops, so every finding counts. `,
      '',
      table(['run', 'set', 'Node', 'kind', 'recall', 'precision', 'under a wrong kind'], rows),
      '',
      misses.length ? `Misses and false findings: ${misses.join('; ')}.` : 'No miss and no false finding in any run.',
    );
  }
  const r = read(dir, 'report-speed');
  if (r) {
    parts.push('', '## Report speed', '', r.markdown);
  }
  return parts.join('\n') + '\n';
}

/** One row per set, Node and kind that has anything to say: `row` gets the recall and precision cells. */
function findingsRows(results, row) {
  const pct = (a, b) => (b ? `${Math.round((100 * a) / b)}%` : '–');
  const rows = [];
  for (const r of results.results) {
    for (const [kind, c] of Object.entries(r.counts)) {
      if (!c.expected && !c.falsePositives && !c.unconfirmedFalse) continue;
      rows.push(row(r, kind, c, [`${pct(c.found, c.expected)} (${c.found}/${c.expected})`, `${pct(c.found, c.found + c.falsePositives)} (${c.falsePositives} false)`]));
    }
  }
  return rows;
}

module.exports = { writeMarkdown };

// `node scripts/bench/markdown.js [DIR]`: BENCHMARKS.md again from DIR's results (default
// bench-results/), after one benchmark was run on its own with --json DIR/<name>.json.
if (require.main === module) {
  const repo = path.join(__dirname, '..', '..');
  fs.writeFileSync(path.join(repo, 'BENCHMARKS.md'), writeMarkdown(path.resolve(process.argv[2] ?? path.join(repo, 'bench-results'))));
}
