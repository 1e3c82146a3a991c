/**
 * Stable codes for everything preheat reports. A code is never reused for another meaning:
 * users grep logs and CI output for them.
 */
export const Codes = {
  /** A PREHEAT_* variable or option has a value preheat cannot use; the default is used. */
  badOption: 'PREHEAT_W001',
  /** A PREHEAT_* variable preheat does not know (usually a typo). */
  unknownOption: 'PREHEAT_W002',
  /** The native sampler (v8-profiler-next) could not be loaded; the inspector sampler is used. */
  nativeSamplerUnavailable: 'PREHEAT_W003',
  /** No sampler could be started; the agent records nothing. */
  noSampler: 'PREHEAT_W004',
  /**
   * A profile file in PREHEAT_DIR could not be used (corrupt, truncated, foreign, another schema
   * version, not a regular file, too big); it is left as it is (until 0.1: moved aside).
   */
  badProfile: 'PREHEAT_W005',
  /** Writing into PREHEAT_DIR failed. */
  writeFailed: 'PREHEAT_W006',
  /** The agent was loaded twice into one process. */
  loadedTwice: 'PREHEAT_W007',
  /** Something unexpected failed inside the agent; the app goes on untouched. */
  internal: 'PREHEAT_W008',
  /** The requested mode needs a part that is not built in this version. */
  modeUnavailable: 'PREHEAT_W009',
  /** Warm mode found nothing to warm from, or could not reach the app; the app starts cold. */
  warmupSkipped: 'PREHEAT_W010',
  /** The readiness server could not listen. */
  readinessFailed: 'PREHEAT_W011',
  /**
   * Part of the warm-up cannot run here (V8 natives refused, the heap scan failed, the replay's
   * worker thread could not start or died and the replay runs on the app's main thread); the rest goes on.
   */
  warmupDegraded: 'PREHEAT_W012',
  /** Recorded requests that break the replay rules (method, path, body size) are not replayed. */
  replaySkipped: 'PREHEAT_W013',
  /** A previous warm-up from this directory never ended (its process died): this boot starts cold. */
  warmupCrashed: 'PREHEAT_W014',
  /** The app listens on PREHEAT_PORT: the readiness server gives the port up. */
  portTaken: 'PREHEAT_W015',
  /** A sampling window ran JavaScript files but none under the app root, so nothing is recorded. */
  nothingUnderRoot: 'PREHEAT_W016',
  /** This Node has no hook for the requests of an `http2` server (Node 20): they are not recorded. */
  http2NotRecorded: 'PREHEAT_W017',
  /** Recorded requests that were in flight when a warm-up from this directory died are quarantined: not replayed. */
  requestsQuarantined: 'PREHEAT_W018',
  /** PREHEAT_DIR/quarantine.json cannot be used (corrupt, foreign, not a regular file); it is ignored and left as it is. */
  badQuarantine: 'PREHEAT_W019',
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];

/** An error the CLI reports as one line and an exit code, without a stack trace. */
export class PreheatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'PreheatError';
  }
}

export const ErrorCodes = {
  usage: 'PREHEAT_ERR_USAGE',
  input: 'PREHEAT_ERR_INPUT',
  io: 'PREHEAT_ERR_IO',
} as const;
