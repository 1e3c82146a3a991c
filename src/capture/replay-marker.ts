import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The header on every request preheat's warm-up sends itself; its value is secret to one boot. */
export const REPLAY_HEADER = 'x-preheat-replay';

export interface ReplayMarker {
  readonly header: string;
  /** The value replayed requests carry: this boot's own, or the cluster primary's once adopted. */
  readonly value: string;
  /** True only for this boot's value (or the adopted one): a client sending the header cannot keep its requests out of the recording. */
  isReplay(headers: IncomingHttpHeaders): boolean;
  /**
   * A `node:cluster` worker takes its primary's value: a sibling's replay lands on this worker too
   * (the workers share one listening socket) and must be neither recorded nor left untimed.
   */
  adopt(value: string): void;
}

/** A marker with 128 random bits, made once per boot and never written anywhere. */
export function createReplayMarker(): ReplayMarker {
  let value = randomBytes(16).toString('hex');
  const accepted = [Buffer.from(value)];
  return {
    header: REPLAY_HEADER,
    get value() {
      return value;
    },
    isReplay(headers) {
      const sent = headers[REPLAY_HEADER];
      if (typeof sent !== 'string' || sent.length !== value.length) return false;
      // Constant time: the answer (recorded or not) must not leak the value a character at a time.
      const got = Buffer.from(sent);
      let match = false;
      for (const expected of accepted) if (got.length === expected.length && timingSafeEqual(got, expected)) match = true;
      return match;
    },
    adopt(shared) {
      if (!/^[0-9a-f]{32}$/.test(shared) || shared === value) return;
      value = shared;
      accepted.push(Buffer.from(shared));
    },
  };
}
