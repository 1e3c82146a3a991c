import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Options } from '../config/options';
import { Codes, type Code } from '../errors';
import type { Logger } from '../log';
import { functionKey, mergeGenerations } from '../profile/merge';
import type { DeoptSeen } from '../warmup/deopt-watch';
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
import type { CpuProfile } from '../profile/cpuprofile';

/**
 * Time between two steps of a background write: the steps of one window's write (about 6, each a
 * few milliseconds of CPU) spread over a few seconds rather than one burst (docs/overhead.md).
 */
const STEP_GAP_MS = 500;

/** One step of a write: what it does (for the debug line) and the work; a promise when it waits for the disk. */
interface Step {
  what: string;
  run: () => void | Promise<void>;
}

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
 *
 * When `windowMs` equals `periodMs` (the default) the sampler never stops: at the end of each
 * window it rotates its profile (sampler.ts), which costs well under a millisecond where stopping
 * and starting V8's profiler costs the main thread a heap walk. The work after a scheduled window
 * (folding, the .cpuprofile, the two profile files) then runs in steps, one per turn of the event
 * loop, so the app's requests run between them (docs/overhead.md). Ends that must write at once
 * (a signal, the warm-up's pause, exit) write synchronously, as before.
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
  /** A rotation begun (sampler.beginRotation) and not yet ended. */
  private rotation: NodeJS.Timeout | null = null;
  private sampling = false;
  private paused = false;
  private dirState: 'unknown' | 'ok' | 'failed' = 'unknown';
  private stopped = false;
  /** Windows ended but not yet folded into the recording, oldest first. */
  private readonly unfolded: CpuProfile[] = [];
  /** Windows folded whose .cpuprofile is not yet written, with their window number. */
  private readonly unwritten: { profile: CpuProfile; window: number }[] = [];
  /** Whether the recording holds samples the profile files do not have yet. */
  private dirty = false;
  /** Bumped by every synchronous write: a stepwise write that began before it gives up. */
  private flushSeq = 0;
  private flushing = false;
  private readonly status: RecorderStatus;
  /** Hot functions real traffic deoptimized after this boot's warm-up, by function key: times seen. */
  private deopts = new Map<string, number>();

  constructor(
    private readonly sampler: Sampler,
    private readonly options: Options,
    private readonly log: Logger,
    preheatVersion: string,
    /** Request capture, on while sampling (at most `capturePerSecond` requests a second). */
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

  /**
   * Writes what was sampled so far; sampling goes on, the window keeps its schedule (a signal the
   * app itself handles).
   */
  checkpoint(): void {
    if (this.stopped) return;
    if (this.sampling) this.rotateNow();
    this.writeNow();
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
    this.cancelRotation();
    this.guard('stopping the sampler', () => this.sampler.dispose());
  }

  /**
   * The warm-up's deopt watch saw these functions lose their optimized code under real traffic:
   * this process's profile marks them (HotFunction.deopts), so the next warm-up leaves them to V8.
   */
  noteDeopts(seen: readonly DeoptSeen[]): void {
    this.deopts = new Map(seen.map((d) => [functionKey(d), d.times]));
    this.dirty = true;
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

  /**
   * Ends the current window. A scheduled end (`scheduled`) hands the samples to the stepwise
   * flush; any other end writes before it returns.
   */
  private endWindow(scheduled: boolean): void {
    this.clearTimer();
    const continuous = this.options.windowMs >= this.options.periodMs;
    if (this.sampling && scheduled && continuous && !this.stopped) {
      // The profiler goes on; only the profile changes. The next one starts now and the current
      // one ends a few sampling intervals later, once V8 has filed the samples it still holds.
      if (this.rotation) this.rotateNow();
      this.guard('rotating the sampler', () => this.sampler.beginRotation?.());
      this.rotation = setTimeout(() => {
        this.rotation = null;
        this.guard('rotating the sampler', () => {
          this.rotateNow();
          this.flushSoon();
        });
      }, this.rotationGraceMs());
      this.rotation.unref();
      this.schedule(this.options.windowMs, () => this.endWindow(true));
      return;
    }
    if (this.sampling) {
      this.sampling = false;
      this.capture?.pause();
      this.cancelRotation();
      const profile = this.guard('stopping a sampling window', () => this.sampler.stop());
      if (profile) this.unfolded.push(profile);
    }
    if (scheduled) this.flushSoon();
    else this.writeNow();
    if (!scheduled || this.stopped) return;
    const gap = this.options.periodMs - this.options.windowMs;
    if (gap <= 0) this.startWindow();
    else this.schedule(gap, () => this.startWindow());
  }

  /** Ends the current profile now (finishing a rotation begun earlier) and keeps it to fold. */
  private rotateNow(): void {
    this.cancelRotation();
    const profile = this.guard('rotating the sampler', () => this.sampler.rotate());
    if (profile) this.unfolded.push(profile);
  }

  private cancelRotation(): void {
    if (this.rotation) clearTimeout(this.rotation);
    this.rotation = null;
  }

  /**
   * Four sampling intervals, at least 100 ms (V8's profiler thread files the samples, and on a busy
   * machine it may wait its turn), never more than half a window.
   */
  private rotationGraceMs(): number {
    return Math.min(Math.max(100, (4 * this.options.sampleIntervalMicros) / 1000), this.options.windowMs / 2);
  }

  /** Folds the oldest ended window into the recording. */
  private foldOne(): void {
    const profile = this.unfolded.shift();
    if (!profile) return;
    this.guard('reading the samples', () => this.recording.add(profile));
    this.unwritten.push({ profile, window: this.recording.windows });
    this.dirty = true;
  }

  /** Writes the oldest folded window's .cpuprofile. */
  private writeOneCpuprofile(): void {
    const next = this.unwritten.shift();
    if (!next || !this.dirUsable()) return;
    this.guard(
      'writing a .cpuprofile',
      () => writeCpuprofile(this.options.dir, next.profile, next.window, this.options.maxCpuprofiles),
      Codes.writeFailed,
    );
  }

  /** The steps of one flush from where it stands: fold, then .cpuprofile files, then the profiles. */
  private nextSteps(background: boolean): Step[] {
    if (this.unfolded.length) return [{ what: 'fold', run: () => this.foldOne() }];
    if (this.unwritten.length) return [{ what: '.cpuprofile', run: () => this.writeOneCpuprofile() }];
    if (this.dirty) return this.writeSteps(background);
    return [];
  }

  /** Everything ended so far, folded and written before returning: exit, signals, pause. */
  private writeNow(): void {
    // A background write under way may have taken the recording's changes (dirty = false) without
    // its files being renamed yet: it will give up, so its changes are written here.
    if (this.flushing) this.dirty = true;
    this.flushSeq++;
    this.flushing = false;
    const t0 = performance.now();
    let count = 0;
    for (let steps = this.nextSteps(false); steps.length; steps = this.nextSteps(false)) for (const step of steps) (step.run(), count++);
    if (count) this.log.debug(`written at once in ${(performance.now() - t0).toFixed(1)} ms`);
  }

  /**
   * Folds and writes the ended windows in steps, STEP_GAP_MS apart, so that no moment holds much
   * of the work and requests run between the steps. Returns at once; a synchronous write meanwhile
   * (writeNow) takes over and this one stops.
   */
  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    const seq = ++this.flushSeq;
    let steps: Step[] = [];
    const began = performance.now();
    let count = 0;
    let cpu = 0;
    let longest = 0;
    let longestWhat = '';
    // Never so far apart that a window's write outlasts the window (short windows a user set).
    const gap = Math.min(STEP_GAP_MS, this.options.windowMs / 40);
    const later = (fn: () => void) => setTimeout(fn, gap).unref();
    const next = () => {
      if (seq !== this.flushSeq || this.stopped) return;
      if (!steps.length) steps = this.nextSteps(true);
      const step = steps.shift();
      if (!step) {
        this.flushing = false;
        this.log.debug(
          `window ${this.recording.windows} written in ${count} steps over ${((performance.now() - began) / 1000).toFixed(1)} s: ` +
            `${cpu.toFixed(1)} ms of CPU in all, the most ${longest.toFixed(1)} ms (${longestWhat})`,
        );
        return;
      }
      // The process's CPU time (its other threads' too, a little) over the step, on the main thread.
      const c0 = process.cpuUsage();
      const waiting = step.run();
      const c = process.cpuUsage(c0);
      const took = (c.user + c.system) / 1000;
      count++;
      cpu += took;
      if (took > longest) [longest, longestWhat] = [took, step.what];
      if (waiting) void waiting.then(() => later(next));
      else later(next);
    };
    later(next);
  }

  /**
   * The steps that write the profile files: the generation (first write only), the source hashes
   * of app files not indexed yet (one file per step: acorn takes tens of milliseconds on a big
   * one), this process's file, then profile.json. In the `background`, the files are written and
   * synced to disk on libuv's threads (writeDurably), not on the main thread.
   */
  private writeSteps(background: boolean): Step[] {
    // A wrapper process (npm, a shell script in node) that ran none of the app's code must not
    // add a profile of its own.
    if (!this.recording.touchesApp()) {
      return [{ what: 'outside the root', run: () => {
        this.dirty = false;
        this.explainOutsideRoot();
      } }];
    }
    if (!this.dirUsable()) return [{ what: 'no directory', run: () => void (this.dirty = false) }];
    const steps: Step[] = [];
    if (this.generation === 0) steps.push({ what: 'first write', run: () => this.firstWrite() });
    for (const f of this.unhashedFiles()) steps.push({ what: `hash ${f.file}`, run: () => void this.guard('hashing a source file', () => this.hasher.hash(f)) });
    let own: WarmupProfile | undefined;
    const seq = this.flushSeq;
    const written = (p: WarmupProfile) => {
      own = p;
      this.status.writes++;
      this.status.lastWrite = p.updatedAt;
    };
    steps.push({ what: 'own profile', run: () => {
      this.dirty = false;
      const p = this.guard('writing this process\'s profile', () => this.ownProfile());
      if (!p) return;
      const text = serializeProfile(p);
      if (!background) return void this.guard('writing this process\'s profile', () => (writeFileAtomic(this.ownFile, text, PRIVATE), written(p)), Codes.writeFailed);
      return this.writeDurably(this.ownFile, text, seq, 'writing this process\'s profile').then((ok) => void (ok && written(p)));
    } });
    steps.push({ what: 'profile.json', run: () => {
      if (!own) return;
      const merged = this.guard('writing profile.json', () => this.mergedText(own!), Codes.writeFailed);
      if (!merged) return;
      if (!background) return void this.guard('writing profile.json', () => writeFileAtomic(this.profileFile, merged, PRIVATE), Codes.writeFailed);
      return this.writeDurably(this.profileFile, merged, seq, 'writing profile.json').then(() => undefined);
    } });
    return steps;
  }

  /** One function of each app file sampled since the last write: their sources are indexed a step each. */
  private unhashedFiles(): { file: string; line: number; column: number }[] {
    return this.recording.takeNewFiles().filter((f) => !f.file.includes('node_modules/') && !f.file.startsWith('node:'));
  }

  private ownProfile(): WarmupProfile {
    const current = this.recording.toProfile(this.options.maxFunctions, (f) => this.hasher.hash(f));
    // A marked function this recording did not sample goes unmarked: it is no longer hot here.
    for (const f of current.hotFunctions) {
      const times = this.deopts.get(functionKey(f));
      if (times) f.deopts = times;
    }
    const requests = this.capture?.top();
    if (requests?.length) current.requests = requests;
    return mergeGenerations(
      [{ ...current, generation: this.generation, instances: [this.instanceId] }],
      1,
      this.options.maxFunctions,
      this.options.maxRequests,
    );
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
  private mergedText(own: WarmupProfile): string | null {
    const snap: DirSnapshot = readProfileDir(this.options.dir, this.instanceId);
    const main = snap.main;
    if (main.kind === 'bad' || (main.kind === 'ok' && main.link)) return null;
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
    return serializeProfile(merged);
  }

  /**
   * writeFileAtomic's steps with the write and the sync on libuv's threads: a temporary file
   * (named as writeFileAtomic names them, so a killed writer's is cleaned up the same way), then
   * the rename on the main thread, only if no synchronous write came meanwhile with newer data.
   */
  private async writeDurably(file: string, text: string, seq: number, what: string): Promise<boolean> {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await fs.promises.open(tmp, 'wx', PRIVATE.mode);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (seq !== this.flushSeq || this.stopped) {
        fs.rmSync(tmp, { force: true });
        return false;
      }
      fs.renameSync(tmp, file);
      return true;
    } catch (error) {
      fs.rmSync(tmp, { force: true });
      this.log.warn(Codes.writeFailed, `${what} failed: ${(error as Error)?.message ?? String(error)}`);
      return false;
    }
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
