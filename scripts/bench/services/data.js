'use strict';
// The data the benchmark services serve: deterministic, so every boot and every contender sees
// the same database. About 100 KB as JSON.
const tags = ['home', 'garden', 'tools', 'kitchen', 'toys'];
const words = ['red', 'lamp', 'quiet', 'kettle', 'smart', 'camera', 'oak', 'steel', 'soft', 'mini'];

function makeDb() {
  const products = Array.from({ length: 300 }, (_, i) => ({
    id: i + 1,
    name: `${words[i % words.length]} ${words[(i * 7) % words.length]} ${i}`,
    tag: tags[i % tags.length],
    price: Math.round(((i * 37) % 1000) + 99) / 100,
    rating: (i * 13) % 5 + 1,
    stock: (i * 11) % 40,
    description: `${words[(i * 3) % words.length]} `.repeat(20).trim(),
  }));
  const reviews = Array.from({ length: 600 }, (_, i) => ({
    id: i + 1,
    productId: ((i * 7) % 300) + 1,
    stars: (i % 5) + 1,
    text: `${words[i % words.length]} and ${words[(i * 3) % words.length]}`,
  }));
  return { products, reviews };
}

module.exports = { makeDb, tags, words };
