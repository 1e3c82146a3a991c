'use strict';
// The example service of examples/: a small JSON API with one hot path (`quote`), a health path
// that preheat gates until the instance is warm (/healthz), and one it leaves alone (/livez).
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '0.0.0.0';

const catalog = Array.from({ length: 500 }, (_, i) => ({ sku: `sku-${i}`, base: 100 + ((i * 37) % 900) }));
const bySku = new Map(catalog.map((item) => [item.sku, item]));

// The hot path: a price with tiered discounts, computed per request.
function quote(item, quantity) {
  let total = 0;
  for (let n = 1; n <= quantity; n++) {
    const tier = n > 100 ? 0.8 : n > 10 ? 0.9 : 1;
    total += Math.round(item.base * tier * (1 + ((n * 7919) % 13) / 1000));
  }
  return { sku: item.sku, quantity, total };
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz' || url.pathname === '/livez') return send(res, 200, { ok: true });
  const match = /^\/quote\/([\w-]+)$/.exec(url.pathname);
  const item = match && bySku.get(match[1]);
  if (!item) return send(res, 404, { error: 'not found' });
  const quantity = Math.min(Math.max(Number(url.searchParams.get('qty')) || 1, 1), 5000);
  send(res, 200, quote(item, quantity));
});

server.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
