#!/usr/bin/env node
'use strict';
// Writes a synthetic but realistic .cpuprofile: `samples` samples over a tree of a few thousand
// functions in a few hundred files, stacks 10–60 deep, skewed so a few paths are hot.
// Usage: node scripts/bench/make-large-profile.js <out.cpuprofile> [--samples N] [--seed S]
const fs = require('node:fs');

const args = process.argv.slice(2);
const out = args[0];
if (!out) {
  console.error('usage: make-large-profile.js <out.cpuprofile> [--samples N] [--seed S]');
  process.exit(2);
}
const opt = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const samplesWanted = opt('--samples', 1_000_000);
let seed = opt('--seed', 42);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const functions = Array.from({ length: 4000 }, (_, i) => ({
  functionName: i % 17 === 0 ? '' : `fn${i}_${['parse', 'render', 'route', 'query', 'serialize'][i % 5]}`,
  scriptId: String(1 + (i % 300)),
  url: i % 10 === 0 ? `node:internal/mod${i % 30}` : `file:///srv/app/${i % 3 === 0 ? 'node_modules/lib' + (i % 40) + '/' : 'src/'}file${i % 300}.js`,
  lineNumber: (i * 13) % 900,
  columnNumber: (i * 7) % 40,
}));

const nodes = [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [] }];
const special = ['(garbage collector)', '(program)', '(idle)'].map((name) => {
  const node = { id: nodes.length + 1, callFrame: { functionName: name, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [] };
  nodes.push(node);
  nodes[0].children.push(node.id);
  return node;
});
const childIndex = new Map();
function child(parent, fnIndex) {
  const key = parent.id * 5000 + fnIndex;
  let id = childIndex.get(key);
  if (id === undefined) {
    id = nodes.length + 1;
    nodes.push({ id, callFrame: functions[fnIndex], hitCount: 0, children: [] });
    parent.children.push(id);
    childIndex.set(key, id);
  }
  return nodes[id - 1];
}

// A few thousand distinct request paths; Zipf-like weights make a handful of them dominate.
const paths = Array.from({ length: 3000 }, () => {
  const depth = 10 + Math.floor(random() * 50);
  return Array.from({ length: depth }, () => Math.floor(Math.pow(random(), 2) * functions.length));
});
const samples = [];
const timeDeltas = [];
for (let s = 0; s < samplesWanted; s++) {
  const r = random();
  let leaf;
  if (r < 0.05) leaf = special[0];
  else if (r < 0.07) leaf = special[1];
  else if (r < 0.2) leaf = special[2];
  else {
    const p = paths[Math.floor(Math.pow(random(), 3) * paths.length)];
    const depth = Math.max(1, p.length - Math.floor(random() * 5));
    leaf = nodes[0];
    for (let d = 0; d < depth; d++) leaf = child(leaf, p[d]);
  }
  leaf.hitCount++;
  samples.push(leaf.id);
  timeDeltas.push(1000);
}
for (const n of nodes) {
  if (n.hitCount > 0 && n.callFrame.url.startsWith('file:')) {
    const base = n.callFrame.lineNumber + 1;
    n.positionTicks = [{ line: base + 1, ticks: Math.ceil(n.hitCount / 2) }, { line: base + 2, ticks: Math.floor(n.hitCount / 2) }].filter((t) => t.ticks > 0);
  }
}
const profile = { nodes, startTime: 0, endTime: samplesWanted * 1000, samples, timeDeltas };
fs.writeFileSync(out, JSON.stringify(profile));
console.error(`${out}: ${nodes.length} nodes, ${samples.length} samples, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB`);
