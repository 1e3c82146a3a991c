'use strict';
// A GraphQL server (graphql-yoga 5 on node:http) with a small product/review schema, queried over
// GET. Usage: node graphql.js <port>
const http = require('node:http');
const { createSchema, createYoga } = require('graphql-yoga');
const { makeDb } = require('./data');

const db = makeDb();
const byProduct = new Map();
for (const r of db.reviews) byProduct.set(r.productId, [...(byProduct.get(r.productId) ?? []), r]);

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Review { id: ID!, stars: Int!, text: String! }
    type Product { id: ID!, name: String!, tag: String!, price: Float!, rating: Int!, inStock: Boolean!, reviews(limit: Int = 3): [Review!]! }
    type Query {
      product(id: ID!): Product
      products(tag: String, sort: String, page: Int = 1): [Product!]!
      search(q: String!): [Product!]!
    }
  `,
  resolvers: {
    Product: {
      inStock: (p) => p.stock > 0,
      reviews: (p, { limit }) => (byProduct.get(p.id) ?? []).slice(0, limit),
    },
    Query: {
      product: (_, { id }) => db.products[Number(id) - 1] ?? null,
      products: (_, { tag, sort, page }) => {
        const list = tag ? db.products.filter((p) => p.tag === tag) : db.products;
        const sorted = sort ? [...list].sort((a, b) => (a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : 0)) : list;
        return sorted.slice((page - 1) * 10, page * 10);
      },
      search: (_, { q }) => db.products.filter((p) => p.name.includes(q)).slice(0, 10),
    },
  },
});

const yoga = createYoga({ schema, logging: false, graphiql: false, maskedErrors: false });
http.createServer(yoga).listen(Number(process.argv[2]), '127.0.0.1');
