import * as http from 'node:http';
/** What the endpoints answer from: the warm-up's state, or in a cluster primary the workers' (cluster.ts). */
export interface ReadinessSource {
  readonly ready: boolean;
  status(): { phase: string };
}

/**
 * The readiness endpoints on a loopback port of their own: `/ready` (503 while warming, 200 once
 * warm), `/status` (JSON), `/live` (200). Unref'd: it never keeps the app alive. A port already in
 * use is reported through `onError`, and the app runs on.
 */
export function startReadinessServer(
  state: ReadinessSource,
  host: string,
  port: number,
  onListening: (port: number) => void,
  onError: (error: Error) => void,
): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/ready') return state.ready ? send(200, 'ready\n') : send(503, `not ready: ${state.status().phase}\n`);
    if (path === '/status') return send(200, JSON.stringify(state.status()) + '\n', 'application/json');
    if (path === '/live') return send(200, 'live\n');
    send(404, 'not found: /ready, /status, /live\n');
  });
  server.on('error', onError);
  server.listen(port, host, () => {
    const address = server.address();
    onListening(typeof address === 'object' && address ? address.port : port);
  });
  server.unref();
  return server;
}
