import type { HttpResponse } from 'uWebSockets.js';

/** Whether the client went away before the answer (uWS forbids writing to an aborted response). */
export interface RequestState {
  aborted: boolean;
}

/** Registers the abort handler of a uWS response; check `aborted` before writing the answer. */
export function trackAborted(res: HttpResponse): RequestState {
  const state: RequestState = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

/**
 * Collects a request body of at most `maxBytes` (UTF-8 text): `onBody` once it is whole, or `onTooLarge`
 * as soon as it passes the cap (the rest is ignored). Nothing is called after an abort. uWS neuters each
 * chunk when its callback returns, so the chunks are copied.
 */
export function readBody(res: HttpResponse, state: RequestState, maxBytes: number, onTooLarge: () => void, onBody: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  res.onData((chunk, isLast) => {
    if (state.aborted || done) return;
    if (chunk.byteLength > 0) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        onTooLarge();
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk)));
    }
    if (!isLast) return;
    done = true;
    onBody(chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8'));
  });
}
