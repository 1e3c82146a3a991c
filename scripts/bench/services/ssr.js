'use strict';
// A server-side-rendering app: express 4 and react-dom/server's renderToString (React 19), pages
// built from components without JSX (no build step). Usage: node ssr.js <port>
const express = require('express');
const React = require('react');
const { renderToString } = require('react-dom/server');
const { makeDb } = require('./data');

const h = React.createElement;
const db = makeDb();

const Price = ({ value }) => h('span', { className: 'price' }, `$${value.toFixed(2)}`);
const Stars = ({ n }) => h('span', { className: 'stars', 'aria-label': `${n} of 5` }, '★'.repeat(n) + '☆'.repeat(5 - n));
const Card = ({ p }) =>
  h('li', { className: 'card' }, h('a', { href: `/product/${p.id}` }, p.name), h(Price, { value: p.price }), h(Stars, { n: p.rating }), p.stock > 0 ? null : h('em', null, 'sold out'));
const Layout = ({ title, children }) =>
  h('html', null, h('head', null, h('title', null, title)), h('body', null, h('header', null, h('h1', null, title)), h('main', null, children), h('footer', null, '© bench shop')));

const app = express();
app.get('/products', (req, res) => {
  const tag = String(req.query.tag ?? '');
  const sort = String(req.query.sort ?? 'name');
  const page = Math.max(1, Number(req.query.page) || 1);
  const list = db.products.filter((p) => !tag || p.tag === tag).sort((a, b) => (a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : 0));
  const items = list.slice((page - 1) * 20, page * 20);
  res.send('<!doctype html>' + renderToString(h(Layout, { title: `${tag || 'all'} products` }, h('ul', null, items.map((p) => h(Card, { key: p.id, p }))))));
});
app.get('/product/:id', (req, res) => {
  const p = db.products[Number(req.params.id) - 1];
  if (!p) return res.status(404).send('not found');
  const reviews = db.reviews.filter((r) => r.productId === p.id).slice(0, 5);
  res.send(
    '<!doctype html>' +
      renderToString(h(Layout, { title: p.name }, h(Card, { p }), h('p', null, p.description), h('ol', null, reviews.map((r) => h('li', { key: r.id }, h(Stars, { n: r.stars }), ' ', r.text))))),
  );
});
app.listen(Number(process.argv[2]), '127.0.0.1');
