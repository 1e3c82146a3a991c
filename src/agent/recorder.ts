import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Options } from '../config/options';
import { Codes, type Code } from '../errors';
import type { Logger } from '../log';
import { nextGeneration } from '../profile/merge';
import type { RecordedRequest, WarmupProfile } from '../profile/schema';
import { loadProfile, PROFILE_FILE, serializeProfile, writeFileAtomic } from '../profile/store';
import { writeCpuprofile } from '../profile/cpuprofile-files';
import { Recording } from '../analysis/recording';
import { SourceHasher } from '../analysis/source-hashes';
import type { Sampler } from '../sampler/sampler';

export interface RecorderStatus {
  sampler: Sampler['kind'];
  windows: number;
  writes: number;
  lastWrite: string | null;
}

/**
 * Record mode: samples `windowMs` of every `periodMs`, folds each window into the recording,
 * and writes profile.json and the window's .cpuprofile after each one and at exit. Every timer is
 * unref'd: recording never keeps the app alive.
 */
export class Recorder {
  private readonly recording: Recording;
  private readonly hasher: SourceHasher;
  private readonly profileFile: string;
  /** The profile found on disk, read at the first write (not at start-up); undefined until then. */
  private baseline: WarmupProfile | null | undefined;
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  private dirState: 'unknown' | 'ok' | 'failed' = 'unknown';
  private stopped = false;
  private readonly status: RecorderStatus;

  constructor(
    private readonly sampler: Sampler,
    private readonly options: Options,
    private readonly log: Logger,
    preheatVersion: string,
    /** Request capture, on while a window samples (a uniform sample of the traffic, at 1/12 the cost). */
    private readonly capture: { top(): RecordedRequest[]; resume(): void; pause(): void } | null = null,
  ) {
    this.recording = new Recording({
      preheatVersion,
      root: options.root,
      sampleIntervalMicros: options.sampleIntervalMicros,
      // This file is dist/src/agent/recorder.js; the preload entries live in agent/.
      ignoreUrlPrefixes: [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..', 'agent')].map(
        (dir) => pathToFileURL(dir).href + '/',
      ),
    });
    this.hasher = new SourceHasher(options.root);
    this.profileFile = path.join(options.dir, PROFILE_FILE);
    this.status = { sampler: sampler.kind, windows: 0, writes: 0, lastWrite: null };
  }

  start(): void {
    this.startWindow();
  }

  /** Ends the current window and writes; sampling goes on (a signal the app itself handles). */
  checkpoint(): void {
    if (this.stopped) return;
    const wasSampling = this.sampling;
    this.endWindow(false);
    if (wasSampling) this.startWindow();
  }

  /** Ends sampling for good and writes what was recorded. Synchronous: it runs inside 'exit'. */
  finish(): void {
    if (this.stopped) return;
    this.endWindow(false);
    this.stopped = true;
    this.clearTimer();
    this.guard('stopping the sampler', () => this.sampler.dispose());
  }

  getStatus(): Readonly<RecorderStatus> {
    return { ...this.status, windows: this.recording.windows };
  }

  private startWindow(): void {
    if (this.stopped) return;
    this.clearTimer();
    this.guard('starting a sampling window', () => {
      this.sampler.start();
      this.sampling = true;
      this.capture?.resume();
    });
    this.schedule(this.options.windowMs, () => this.endWindow(true));
  }

  private endWindow(scheduleNext: boolean): void {
    this.clearTimer();
    if (this.sampling) {
      this.sampling = false;
      this.capture?.pause();
      const profile = this.guard('stopping a sampling window', () => this.sampler.stop());
      if (profile) {
        this.guard('reading the samples', () => this.recording.add(profile));
        if (this.dirUsable()) this.guard(
          'writing a .cpuprofile',
          () => writeCpuprofile(this.options.dir, profile, this.recording.windows, this.options.maxCpuprofiles),
          Codes.writeFailed,
        );
        this.write();
      }
    }
    if (!scheduleNext || this.stopped) return;
    const gap = this.options.periodMs - this.options.windowMs;
    if (gap <= 0) this.startWindow();
    else this.schedule(gap, () => this.startWindow());
  }

  private write(): void {
    // A wrapper process (npm, a shell script in node) that ran none of the app's code must not
    // replace the app's profile with its own.
    if (!this.recording.touchesApp() || !this.dirUsable()) return;
    if (this.baseline === undefined) this.baseline = this.readBaseline();
    const current = this.recording.toProfile(this.options.maxFunctions, (f) => this.hasher.hash(f));
    const requests = this.capture?.top();
    if (requests?.length) current.requests = requests;
    const next = nextGeneration(this.baseline, current, this.options.decay, this.options.maxFunctions, this.options.maxRequests);
    this.guard('writing profile.json', () => {
      writeFileAtomic(this.profileFile, serializeProfile(next));
      this.status.writes++;
      this.status.lastWrite = next.updatedAt;
    }, Codes.writeFailed);
  }

  /** Creates the directory once; when that fails, one warning and the recording stays in memory. */
  private dirUsable(): boolean {
    if (this.dirState === 'unknown') {
      try {
        fs.mkdirSync(this.options.dir, { recursive: true });
        this.dirState = 'ok';
      } catch (error) {
        this.dirState = 'failed';
        this.log.warn(Codes.writeFailed, `cannot write into ${this.options.dir} (${(error as Error).message}); nothing will be saved`);
      }
    }
    return this.dirState === 'ok';
  }

  private readBaseline(): WarmupProfile | null {
    const loaded = loadProfile(this.profileFile);
    if (loaded.kind === 'ok') return loaded.profile;
    if (loaded.kind === 'bad') {
      const where = loaded.movedTo ? `moved it to ${path.basename(loaded.movedTo)} and starting` : 'starting';
      this.log.warn(Codes.badProfile, `${this.profileFile} cannot be used: ${loaded.reason}; ${where} a new profile`);
    }
    return null;
  }

  private schedule(ms: number, fn: () => void): void {
    this.timer = setTimeout(() => this.guard('the sampling schedule', fn), ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs one step; a failure becomes a warning, never an exception in the app. */
  private guard<T>(what: string, fn: () => T, code: Code = Codes.internal): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.log.warn(code, `${what} failed: ${(error as Error)?.message ?? String(error)}`);
      return undefined;
    }
  }
}
