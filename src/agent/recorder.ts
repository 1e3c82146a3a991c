import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Options } from '../config/options';
import { Codes, type Code } from '../errors';
import type { Logger } from '../log';
import { mergeGenerations } from '../profile/merge';
import type { BootRead } from '../profile/boot-read';
import {
  baseInstanceId,
  filesToRetire,
  instanceFileName,
  isPreheatFileName,
  newestGeneration,
  newInstanceId,
  readProfileDir,
  type DirSnapshot,
} from '../profile/profile-dir';
import type { RecordedRequest, WarmupProfile } from '../profile/schema';
import { PRIVATE, PROFILE_FILE, removeStaleTemps, serializeProfile, writeFileAtomic } from '../profile/store';
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
 * and writes after each one and at exit: the window's .cpuprofile, this process's own
 * `profile.<instance>.json` (its samples only, so no other process's are ever replaced), then
 * profile.json as the merge of the directory (docs/profile-files.md). Every timer is unref'd:
 * recording never keeps the app alive.
 */
export class Recorder {
  private readonly recording: Recording;
  private readonly hasher: SourceHasher;
  private readonly profileFile: string;
  private readonly instanceId = newInstanceId();
  private readonly ownFile: string;
  /** This process's generation: one past the newest in the directory when it started; set at the first write. */
  private generation = 0;
  private warnedOutsideRoot = false;
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  private paused = false;
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
    /** The process's one read of the profile directory (boot-read.ts), made when first asked for. */
    private readonly stored: () => BootRead | null = () => null,
    /** Whether the process runs an app script, not a launcher from node_modules (npm, npx): only then is an empty window worth a word. */
    private readonly entryIsApp = false,
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
    this.ownFile = path.join(options.dir, instanceFileName(this.instanceId));
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

  /**
   * Ends the current window (and writes) and samples no more until `resume()`: what runs meanwhile,
   * the warm-up's replay of the last profile, is not the app's traffic, and counting it would only
   * make the last profile's hot set hotter.
   */
  pause(): void {
    if (this.stopped || this.paused) return;
    this.endWindow(false);
    this.paused = true;
  }

  resume(): void {
    if (this.stopped || !this.paused) return;
    this.paused = false;
    this.startWindow();
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
    // add a profile of its own.
    if (!this.recording.touchesApp()) {
      this.explainOutsideRoot();
      return;
    }
    if (!this.dirUsable()) return;
    if (this.generation === 0) this.firstWrite();
    const current = this.recording.toProfile(this.options.maxFunctions, (f) => this.hasher.hash(f));
    const requests = this.capture?.top();
    if (requests?.length) current.requests = requests;
    const own = mergeGenerations(
      [{ ...current, generation: this.generation, instances: [this.instanceId] }],
      1,
      this.options.maxFunctions,
      this.options.maxRequests,
    );
    const saved = this.guard('writing this process\'s profile', () => {
      writeFileAtomic(this.ownFile, serializeProfile(own), PRIVATE);
      this.status.writes++;
      this.status.lastWrite = own.updatedAt;
      return true;
    }, Codes.writeFailed);
    if (saved) this.guard('writing profile.json', () => this.writeMerged(own), Codes.writeFailed);
  }

  /** At the first write: this process's generation, and the temporary files killed writers left. */
  private firstWrite(): void {
    const boot = this.guard('reading the profile directory', () => this.stored());
    this.generation = (boot ? newestGeneration(boot.snapshot) : 0) + 1;
    this.guard('cleaning up temporary files', () => removeStaleTemps(this.options.dir, isPreheatFileName));
  }

  /**
   * profile.json as the merge of every per-process file in the directory, for people and for
   * readers that read only profile.json. Readers that merge (warm mode, `preheat top`, `merge`)
   * do not need it. Never over a profile.json that cannot be read, nor over a link (a mounted
   * ConfigMap): those belong to someone else. A profile.json that is no merge of the files here
   * (baked into the image) is first kept as a per-process file of its own, so nothing is lost.
   */
  private writeMerged(own: WarmupProfile): void {
    const snap: DirSnapshot = readProfileDir(this.options.dir, this.instanceId);
    const main = snap.main;
    if (main.kind === 'bad' || (main.kind === 'ok' && main.link)) return;
    if (main.kind === 'ok' && main.role === 'base') {
      const text = serializeProfile(main.profile);
      const id = baseInstanceId(text);
      const kept = { ...main.profile, instances: [...new Set([...(main.profile.instances ?? []), id])] };
      writeFileAtomic(path.join(this.options.dir, instanceFileName(id)), serializeProfile(kept), PRIVATE);
      snap.instances.push({ id, file: path.join(this.options.dir, instanceFileName(id)), profile: kept });
    }
    const newest = Math.max(this.generation, ...snap.instances.map((i) => i.profile.generation));
    const retired = new Set(filesToRetire(snap.instances, newest, this.options.decay));
    for (const r of retired) {
      try {
        fs.unlinkSync(r.file);
      } catch {
        // Retired by another process first.
      }
    }
    const merged = mergeGenerations(
      [own, ...snap.instances.filter((i) => !retired.has(i)).map((i) => i.profile)],
      this.options.decay,
      this.options.maxFunctions,
      this.options.maxRequests,
    );
    writeFileAtomic(this.profileFile, serializeProfile(merged), PRIVATE);
  }

  /**
   * A window that sampled JavaScript files but none under the app root records nothing: say so
   * once, naming the root, unless the process is a launcher (npm, npx) whose own code that is.
   */
  private explainOutsideRoot(): void {
    if (this.warnedOutsideRoot || !this.entryIsApp) return;
    const outside = this.recording.toProfile(this.options.maxFunctions, () => null).hotFunctions.filter((f) => f.selfSamples > 0 && !f.file.startsWith('node:'));
    if (outside.length === 0) return;
    this.warnedOutsideRoot = true;
    this.log.warn(
      Codes.nothingUnderRoot,
      `no sampled code is under the app root ${this.options.root} (the hottest is in ${outside[0]!.file}); nothing is recorded (set PREHEAT_ROOT to the app's folder)`,
    );
  }

  /** Creates the directory once; when that fails, one warning and the recording stays in memory. */
  private dirUsable(): boolean {
    if (this.dirState === 'unknown') {
      try {
        fs.mkdirSync(this.options.dir, { recursive: true, mode: PRIVATE.dirMode });
        this.dirState = 'ok';
      } catch (error) {
        this.dirState = 'failed';
        this.log.warn(Codes.writeFailed, `cannot write into ${this.options.dir} (${(error as Error).message}); nothing will be saved`);
      }
    }
    return this.dirState === 'ok';
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
