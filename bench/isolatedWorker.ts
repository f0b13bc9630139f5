import { parentPort, workerData } from 'node:worker_threads';

/**
 * Runs one bench function in a fresh isolate: `workerData` names the module (a file URL), its export and the
 * argument. The main bench process has by then run many other benches over shared code (book, ring, decoder),
 * whose type feedback and heap would otherwise tax this one; a trading worker runs only its own code.
 */
const { url, name, arg } = workerData as { url: string; name: string; arg: unknown };
const mod = (await import(url)) as Record<string, (a: unknown) => unknown>;
const fn = mod[name];
if (typeof fn !== 'function') throw new Error(`isolated bench: ${url} has no export ${name}`);
parentPort!.postMessage(await fn(arg));
