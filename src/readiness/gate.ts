import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Makes one path of the app's own server (its existing health check, say `/healthz`) answer 503
 * until warm, for users whose probes already point there. Only that server's 'request' events for
 * that path are held back; every other request goes to the app untouched.
 */
export function gateAppServer(server: Server, gatePath: string, isReady: () => boolean): void {
  const emit = server.emit;
  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request' && !isReady()) {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      if ((req.url ?? '').split('?')[0] === gatePath) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end('warming up\n');
        return true;
      }
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof server.emit;
}
