'use strict';
// json-server 0.17.4 (express, lowdb, lodash) over a generated database, as its own CLI would
// serve it (the default middlewares without the request logger). Usage: node json-server.js <port>
const jsonServer = require('json-server');
const { makeDb } = require('./data');

const server = jsonServer.create();
server.use(jsonServer.defaults({ logger: false }));
server.use(jsonServer.router(makeDb()));
server.listen(Number(process.argv[2]), '127.0.0.1');
