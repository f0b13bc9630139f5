import * as net from 'node:net';
import uWS from 'uWebSockets.js';

/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT: no SO_REUSEPORT (a second listener on the port fails). */
const LISTEN_EXCLUSIVE = 1;

type ListenCb = (ls: uWS.us_listen_socket | false) => void;
/** The native listen(host, port, options, cb) overload, missing from this build's typings. */
interface ListenWithOptions {
  listen(host: string, port: number, options: number, cb: ListenCb): unknown;
}

async function probeFreePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error(`cannot probe a free port on ${host}`);
  return addr.port;
}

/**
 * Listens a uWebSockets.js app on an explicit port (an ephemeral one is probed first when `wanted` is 0).
 * uSockets sets SO_REUSEADDR only for a non-zero port; without it, the TIME_WAIT connections left by close()
 * would keep a restarted server from binding the same port for a minute. Exclusive mode keeps two servers
 * from sharing a port silently. `what` names the server in errors.
 */
export async function listenExclusive(app: uWS.TemplatedApp, host: string, wanted: number, what: string): Promise<{ listenSocket: uWS.us_listen_socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = wanted !== 0 ? wanted : await probeFreePort(host);
    let got: uWS.us_listen_socket | false = false;
    (app as unknown as ListenWithOptions).listen(host, port, LISTEN_EXCLUSIVE, (ls) => {
      got = ls;
    });
    const ls = got as uWS.us_listen_socket | false;
    if (ls) return { listenSocket: ls, port: uWS.us_socket_local_port(ls as unknown as uWS.us_socket) };
    if (wanted !== 0 || attempt >= 4) throw new Error(`${what}: cannot listen on ${host}:${port}`);
  }
}
