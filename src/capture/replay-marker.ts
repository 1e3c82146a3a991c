import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The header on every request preheat's warm-up sends itself; its value is secret to one boot. */
export const REPLAY_HEADER = 'x-preheat-replay';

export interface ReplayMarker {
  readonly header: string;
  readonly value: string;
  /** True only for this boot's value: a client sending the header cannot keep its requests out of the recording. */
  isReplay(headers: IncomingHttpHeaders): boolean;
}

/** A marker with 128 random bits, made once per boot and never written anywhere. */
export function createReplayMarker(): ReplayMarker {
  const value = randomBytes(16).toString('hex');
  const expected = Buffer.from(value);
  return {
    header: REPLAY_HEADER,
    value,
    isReplay(headers) {
      const sent = headers[REPLAY_HEADER];
      if (typeof sent !== 'string' || sent.length !== value.length) return false;
      // Constant time: the answer (recorded or not) must not leak the value a character at a time.
      const got = Buffer.from(sent);
      return got.length === expected.length && timingSafeEqual(got, expected);
    },
  };
}
