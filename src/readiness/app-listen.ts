import * as dc from 'node:diagnostics_channel';
import * as http from 'node:http';
import type * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';

/**
 * Node publishes every `server.listen()` on this tracing channel (Node 20 and later): `asyncStart`
 * before the bind, with the options the app passed; `asyncEnd` once it listens, just before the
 * app's own 'listening' listeners run.
 */
const LISTEN_START = 'tracing:net.server.listen:asyncStart';
const LISTEN_END = 'tracing:net.server.listen:asyncEnd';

export interface AppListenHandlers {
  /** Servers of preheat's own (the readiness server): never the app's. */
  isOwn(server: net.Server): boolean;
  /** Before the app's server binds, with the TCP port it asked for (null for pipes, handles, fds). */
  onListenStart?(port: number | null, server: net.Server): void;
  /** An app server listens. Runs inside Node's listen path: handlers must be quick and never throw. */
  onListening(server: net.Server): void;
}

/** Watches the app's servers start listening. Returns the function that stops watching. */
export function watchAppListen(handlers: AppListenHandlers): () => void {
  const onStart = (message: unknown) => {
    try {
      const { server, options } = message as { server?: unknown; options?: { port?: unknown } };
      if (!(server instanceof net.Server) || handlers.isOwn(server)) return;
      const port = Number(options?.port);
      handlers.onListenStart?.(Number.isInteger(port) && port > 0 ? port : null, server);
    } catch {
      // The app's listen goes on whatever preheat thinks of it.
    }
  };
  const onEnd = (message: unknown) => {
    try {
      const { server } = message as { server?: unknown };
      if (server instanceof net.Server && !handlers.isOwn(server)) handlers.onListening(server);
    } catch {
      // Same: never into the app's listen path.
    }
  };
  dc.subscribe(LISTEN_START, onStart);
  dc.subscribe(LISTEN_END, onEnd);
  return () => {
    dc.unsubscribe(LISTEN_START, onStart);
    dc.unsubscribe(LISTEN_END, onEnd);
  };
}

export type HttpServer = http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer;

/** A server preheat can replay HTTP requests to: HTTP, HTTPS, and `http2` servers with or without TLS. */
export function isHttpServer(server: net.Server): server is HttpServer {
  return server instanceof http.Server || server instanceof https.Server || isHttp2Server(server);
}

/**
 * `http2.Http2Server` and `Http2SecureServer` are not exported as classes; their constructors are
 * found once from throwaway instances (never listened, so nothing is bound or published). Loaded
 * at the first listen that is neither http nor https, not at the agent's start: the start-up
 * benchmark counts every module the agent loads.
 */
let http2Classes: Function[] | null = null;
export function isHttp2Server(server: net.Server): server is http2.Http2Server | http2.Http2SecureServer {
  if (server instanceof http.Server || server instanceof https.Server) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const h2 = require('node:http2') as typeof http2;
  http2Classes ??= [h2.createServer().constructor, h2.createSecureServer({}).constructor];
  return http2Classes.some((c) => server instanceof c);
}

/** Whether the server speaks TLS (https, http2 secure). */
export function isTlsServer(server: net.Server): boolean {
  return server instanceof tls.Server;
}

/** The TCP port a server listens on, or null (a pipe, not listening). */
export function listeningPort(server: net.Server): number | null {
  const a = server.address();
  return a && typeof a === 'object' ? a.port : null;
}
