import * as crypto from 'node:crypto';
import { requestKey } from '../profile/merge';
import type { RecordedRequest } from '../profile/schema';

/**
 * The replayed requests that may have killed a warm-up. A replayed request that ends its process
 * (an exit in its handler, a native crash, running out of heap) would end every later warm-up from
 * the same directory too, so before a request is sent its key is written into the warm-up's crash
 * marker (crash-marker.ts), and a boot that finds the marker of a dead warm-up quarantines the keys
 * it names (quarantine.ts): they are never replayed again from that directory.
 *
 * Written ahead, per request, not per replay round: the first round replays the whole schedule
 * (twice, warmup.ts's FEEDBACK_PASSES), so a round's keys are every recorded request, and a request
 * that kills its process does so on its first replay, in that round. The file names the requests in
 * flight when the last new one was sent: at most `PREHEAT_REPLAY_CONCURRENCY` keys, the killer
 * among them. Requests that ended since are not written out until the next write (a second
 * write per request would buy little: what is in flight at a death is a matter of timing anyway).
 */

/** A request's key as the marker and the quarantine file hold it: 48 bits of its `requestKey`. */
export function suspectKey(r: Pick<RecordedRequest, 'method' | 'url' | 'headers' | 'body'>): string {
  const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
  return crypto.createHash('sha256').update(requestKey({ ...r, method })).digest('hex').slice(0, SUSPECT_KEY_LENGTH);
}

/** Hex digits of a key: 48 bits, 12 bytes in the marker; a few hundred keys never collide in practice. */
export const SUSPECT_KEY_LENGTH = 12;
export const SUSPECT_KEY = /^[0-9a-f]{12}$/;

/**
 * The keys of the replayed requests in flight, written ahead: `sending` writes before the request
 * leaves whenever its key is not already in the file, so a process that dies with it in flight
 * leaves it named. Never throws; a write that fails is tried again at the next request.
 */
export class SuspectLog {
  private readonly inFlight = new Map<string, number>();
  private written: ReadonlySet<string> = new Set();
  private readonly keys = new WeakMap<object, string>();

  constructor(private readonly write: (keys: readonly string[]) => void) {}

  /** Called before the request is sent. */
  sending(r: RecordedRequest): void {
    const key = this.keyOf(r);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    if (!this.written.has(key)) this.flush();
  }

  /** Called once the request has ended, however. The file is brought up to date at the next write. */
  ended(r: RecordedRequest): void {
    const key = this.keyOf(r);
    const n = (this.inFlight.get(key) ?? 0) - 1;
    if (n > 0) this.inFlight.set(key, n);
    else this.inFlight.delete(key);
  }

  /** Writes the keys in flight now where the file says otherwise: after a round (none in flight), before the optimizer steps. */
  settle(): void {
    if (this.written.size !== this.inFlight.size || [...this.inFlight.keys()].some((k) => !this.written.has(k))) this.flush();
  }

  private flush(): void {
    const keys = [...this.inFlight.keys()];
    try {
      this.write(keys);
      this.written = new Set(keys);
    } catch {
      // Not on disk: the next request writes again.
      this.written = new Set();
    }
  }

  private keyOf(r: RecordedRequest): string {
    let key = this.keys.get(r);
    if (key === undefined) {
      key = suspectKey(r);
      this.keys.set(r, key);
    }
    return key;
  }
}
