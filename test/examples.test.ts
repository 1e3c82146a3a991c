import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, Env, JSONInstruction, ModifiableInstruction, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import * as ts from 'typescript';
import * as YAML from 'yaml';
import { defaults } from '../src/config/options';
import { parseProfile, type WarmupProfile } from '../src/profile/schema';
import { agent, cleanEnv, cli, fixture, repo, run, tempDir, warnings } from './helpers/run';
import { freePort, get } from './helpers/service';

// The deploy recipes in examples/: what they promise, checked without Docker or Kubernetes. The
// Dockerfile is parsed (dockerfile-ast) and linted (dockerfile-utils); the manifests are checked
// against Kubernetes' schemas (kubernetes-models: its validators, and its types for unknown
// fields); and what they rely on at run time is run here: the example app under the real agent
// with the image's environment and layout (a non-root user, the app and the baked profile
// read-only, PREHEAT_DIR the only writable place), the probes the manifests and the health check
// run, and tini as PID 1 in a PID namespace of its own.

const examples = path.join(repo, 'examples');
const dockerDir = path.join(examples, 'docker');
const k8sDir = path.join(examples, 'kubernetes');

/** Whether the agent knows PREHEAT_PROFILE_DIR (the profile read at boot, apart from PREHEAT_DIR), which the baked recipes use. */
const hasProfileDir = 'profileDir' in defaults;
if (!hasProfileDir) {
  console.error('examples.test: the agent has no PREHEAT_PROFILE_DIR yet; the baked-profile run is skipped, and the other runs leave the variable out');
}

// ---- the Dockerfile ---------------------------------------------------------------------------

interface Image {
  env: Record<string, string>;
  user: string | null;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  healthcheck: { flags: Record<string, string>; command: string[] } | null;
  copies: { flags: Record<string, string>; args: string[] }[];
  volumes: string[];
  runs: string[];
  /** Line (0-based) of each instruction kind's last occurrence, to check their order. */
  lines: Record<string, number>;
}

const dockerfileText = fs.readFileSync(path.join(dockerDir, 'Dockerfile'), 'utf8');

/** The final stage of the Dockerfile, as the container sees it. */
function finalImage(): Image {
  const dockerfile = DockerfileParser.parse(dockerfileText);
  const froms = dockerfile.getFROMs();
  const start = froms[froms.length - 1]!.getRange().start.line;
  const stage = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= start);
  const image: Image = { env: {}, user: null, workdir: '/', entrypoint: [], cmd: [], healthcheck: null, copies: [], volumes: [], runs: [], lines: {} };
  const flags = (i: Instruction) => Object.fromEntries(i instanceof ModifiableInstruction ? i.getFlags().map((f) => [f.getName(), f.getValue() ?? '']) : []);
  const json = (i: Instruction) => (i instanceof JSONInstruction && i.getJSONStrings().length ? i.getJSONStrings().map((s) => s.getJSONValue()) : null);
  for (const i of stage) {
    const keyword = i.getKeyword();
    image.lines[keyword] = i.getRange().start.line;
    const args = i.getArguments().map((a) => a.getValue());
    if (i instanceof Env) for (const p of i.getProperties()) image.env[p.getName()] = p.getValue() ?? '';
    else if (keyword === 'USER') image.user = args[0] ?? null;
    else if (keyword === 'WORKDIR') image.workdir = path.posix.resolve(image.workdir, args[0]!);
    else if (keyword === 'ENTRYPOINT') image.entrypoint = json(i) ?? ['/bin/sh', '-c', args.join(' ')];
    else if (keyword === 'CMD') image.cmd = json(i) ?? ['/bin/sh', '-c', args.join(' ')];
    else if (keyword === 'COPY') image.copies.push({ flags: flags(i), args: i.getArguments().filter((a) => !a.getValue().startsWith('--')).map((a) => a.getValue()) });
    else if (keyword === 'VOLUME') image.volumes.push(...(json(i) ?? args));
    else if (keyword === 'RUN') image.runs.push(i.getArgumentsContent() ?? '');
    else if (keyword === 'HEALTHCHECK') {
      const m = /\bCMD\s+(\[.*\])\s*$/s.exec(i.getArgumentsContent() ?? '');
      image.healthcheck = { flags: flags(i), command: m ? (JSON.parse(m[1]!) as string[]) : [] };
    }
  }
  return image;
}

/** Seconds in a Docker duration such as `130s`, `2m10s`, `1h`. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  return total;
}

/** The longest a boot can stay 503 before readiness is decided anyway (README: time limits). */
function readinessBoundSeconds(env: Record<string, string | undefined>): number {
  const ms = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return (ms('PREHEAT_START_LIMIT_MS', defaults.startLimitMs) + ms('PREHEAT_DEADLINE_MS', defaults.deadlineMs)) / 1000;
}

const isUnder = (child: string, parent: string) => {
  const rel = path.posix.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.posix.isAbsolute(rel));
};

test('the Dockerfile passes dockerfile-utils checks', (t) => {
  t.deepEqual(
    lintDockerfile(dockerfileText).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    [],
  );
});

test('the image runs as a non-root user under tini, preloads the agent by a path that resolves from any directory, and checks its health with preheat probe', (t) => {
  const image = finalImage();
  t.truthy(image.user, 'USER is set');
  t.notRegex(image.user!, /^(root|0)(:|$)/, 'USER is not root');
  t.true(image.lines.USER! < image.lines.ENTRYPOINT!, 'USER comes before the entry point');

  // PID 1 is an init that passes signals on: tini, with `--` before the command.
  t.is(path.posix.basename(image.entrypoint[0] ?? ''), 'tini');
  t.is(image.entrypoint[1], '--');
  t.true(image.runs.some((r) => /\binstall\b.*\btini\b/s.test(r)), 'a RUN installs tini');
  // The app itself, not a launcher (npm would hold the readiness port in its own agent).
  t.is(image.cmd[0], 'node');

  // NODE_OPTIONS preloads the agent by an absolute path inside the app's node_modules.
  const m = /--require[= ](\S+)/.exec(image.env.NODE_OPTIONS ?? '');
  t.truthy(m, `NODE_OPTIONS=${image.env.NODE_OPTIONS}`);
  t.true(path.posix.isAbsolute(m![1]!), 'an absolute path: `--require preheat/agent` is looked up from the working directory');
  t.is(m![1], path.posix.join(image.workdir, 'node_modules', 'preheat', 'agent', 'index.js'));

  // HEALTHCHECK: `preheat probe`, found on PATH, asking PREHEAT_PORT; a start period that covers the longest boot.
  t.deepEqual(image.healthcheck?.command, ['preheat', 'probe']);
  t.true((image.env.PATH ?? '').split(':').includes(path.posix.join(image.workdir, 'node_modules', '.bin')), `PATH=${image.env.PATH}`);
  t.regex(image.env.PREHEAT_PORT ?? '', /^\d+$/);
  t.true(seconds(image.healthcheck!.flags['start-period'] ?? '0s') >= readinessBoundSeconds(image.env), 'start period ≥ PREHEAT_START_LIMIT_MS + PREHEAT_DEADLINE_MS');
  t.not(image.env.PREHEAT_ON_DEADLINE, 'fail');
});

test('the image records into a VOLUME of its own and reads a baked profile COPY --chown to its user, outside that volume', (t) => {
  const image = finalImage();
  const dir = image.env.PREHEAT_DIR!;
  const profileDir = image.env.PREHEAT_PROFILE_DIR!;
  t.true(path.posix.isAbsolute(dir ?? ''), `PREHEAT_DIR=${dir}`);
  t.true(path.posix.isAbsolute(profileDir ?? ''), `PREHEAT_PROFILE_DIR=${profileDir}`);
  t.deepEqual(image.volumes, [dir]);
  // A volume mounted on PREHEAT_DIR hides nothing baked.
  t.false(isUnder(profileDir, dir) || isUnder(dir, profileDir), 'the baked profile and the recordings are apart');
  // The volume's folder exists in the image, owned by the user, before VOLUME (a new named volume takes its owner and mode).
  const user = image.user!.split(':')[0]!;
  t.true(
    image.runs.some((r) => r.includes(dir) && new RegExp(`-o ${user}\\b`).test(r) && /-m 0?700\b/.test(r)),
    'a RUN creates PREHEAT_DIR owned by the user, mode 0700',
  );
  t.true(image.lines.RUN! < image.lines.VOLUME!, 'no RUN after VOLUME (its changes would be lost)');
  const baked = image.copies.filter((c) => path.posix.resolve(image.workdir, c.args[c.args.length - 1]!) === profileDir);
  t.is(baked.length, 1, 'one COPY puts the baked profile into PREHEAT_PROFILE_DIR');
  t.regex(baked[0]!.flags.chown ?? '', new RegExp(`^${user}(:|$)`), 'COPY --chown to the user the app runs as');
  t.true(fs.statSync(path.join(dockerDir, baked[0]!.args[0]!)).isDirectory(), 'the baked folder is in the build context');
  // The app is copied without --chown: the user reads it and cannot change it.
  for (const c of image.copies.filter((c) => c !== baked[0])) t.false('chown' in c.flags, c.args.join(' '));
});

// ---- the Kubernetes manifests -------------------------------------------------------------------

const manifestFiles = fs.readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f));
const manifests = manifestFiles.map((file) => ({
  file,
  docs: YAML.parseAllDocuments(fs.readFileSync(path.join(k8sDir, file), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as any;
  }),
}));

const models: Record<string, { model: new (data: any) => { validate(): void }; type: string; module: string }> = {
  'apps/v1/Deployment': { model: Deployment as any, type: 'IDeployment', module: 'kubernetes-models/apps/v1/Deployment' },
  'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim as any, type: 'IPersistentVolumeClaim', module: 'kubernetes-models/v1/PersistentVolumeClaim' },
};

/**
 * Fields the schemas do not know (kubectl's default `--validate=strict` refuses them): the
 * generated validators accept any extra field, so each document is type-checked as an object
 * literal of kubernetes-models' type for its kind, whose excess-property check names one.
 */
function unknownFields(docs: { doc: any; key: string }[]): string[] {
  const file = path.join(repo, '__examples_manifests__.ts');
  const text = docs.map(({ doc, key }, n) => `import type { ${models[key]!.type} as T${n} } from '${models[key]!.module}';\nexport const doc${n}: T${n} = ${JSON.stringify(doc, null, 1)};\n`).join('');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['lib.es2022.d.ts'], module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022 };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, v, ...rest) => (f === file ? ts.createSourceFile(f, text, v) : getSourceFile.call(host, f, v, ...rest));
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? text : readFile.call(host, f));
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

test('every manifest is valid against Kubernetes schemas (kubernetes-models) and has no field they do not know', (t) => {
  t.true(manifestFiles.length >= 2, manifestFiles.join(', '));
  const all: { doc: any; key: string }[] = [];
  for (const { file, docs } of manifests) {
    for (const doc of docs) {
      const key = `${doc.apiVersion}/${doc.kind}`;
      t.truthy(models[key], `${file}: ${key} is a kind this test knows`);
      if (!models[key]) continue;
      t.notThrows(() => new models[key]!.model(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`);
      all.push({ doc, key });
    }
  }
  t.deepEqual(unknownFields(all), []);
  // The check itself: a misspelt field is found.
  const misspelt = structuredClone(all.find((d) => d.key === 'apps/v1/Deployment')!);
  misspelt.doc.spec.template.spec.containers[0].readinesProbe = misspelt.doc.spec.template.spec.containers[0].readinessProbe;
  t.regex(unknownFields([misspelt]).join('\n'), /readinesProbe/);
});

interface Pod {
  file: string;
  name: string;
  spec: any;
  container: any;
  /** The container's environment as Kubernetes gives it: the image's ENV, then the manifest's env over it. */
  env: Record<string, string>;
  claims: Map<string, any>;
}

function pods(): Pod[] {
  const image = finalImage();
  const out: Pod[] = [];
  for (const { file, docs } of manifests) {
    const claims = new Map(docs.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => [d.metadata.name as string, d]));
    for (const d of docs.filter((d) => d.kind === 'Deployment')) {
      const spec = d.spec.template.spec;
      const container = spec.containers[0];
      const env = { ...image.env };
      for (const e of container.env ?? []) env[e.name] = e.value ?? '';
      out.push({ file, name: d.metadata.name, spec, container, env, claims });
    }
  }
  return out;
}

/** The seconds a preStop hook sleeps (an exec `sleep N` or the sleep action). */
function preStopSeconds(container: any): number | null {
  const hook = container.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const command: string[] = hook?.exec?.command ?? [];
  return command[0] === 'sleep' ? Number(command[1]) : null;
}

/** What the app and the agent have after SIGTERM before the kubelet's SIGKILL: the grace period less the preStop sleep. */
const exitBudgetSeconds = (pod: Pod) => (pod.spec.terminationGracePeriodSeconds ?? 30) - (preStopSeconds(pod.container) ?? 0);

test('each Deployment: readiness on the gated path or through preheat probe, a startup probe that outlasts the warm-up, liveness not gated', (t) => {
  const image = finalImage();
  const kinds = new Set<string>();
  for (const pod of pods()) {
    const where = `${pod.file}: ${pod.name}`;
    const c = pod.container;
    const ports = new Map<string | number, number>((c.ports ?? []).map((p: any) => [p.name ?? p.containerPort, p.containerPort]));
    for (const p of c.ports ?? []) ports.set(p.containerPort, p.containerPort);
    const check = (probe: any, what: string) => {
      t.truthy(probe, `${where}: ${what}`);
      if (probe?.httpGet) {
        t.is(probe.httpGet.path, pod.env.PREHEAT_GATE_PATH, `${where}: ${what} asks the gated path PREHEAT_GATE_PATH`);
        t.true(ports.has(probe.httpGet.port), `${where}: ${what} asks a port of the container (the app's, not the loopback readiness server)`);
        t.is(String(ports.get(probe.httpGet.port)), pod.env.PORT, `${where}: ${what} asks the port the app listens on`);
        return 'gate';
      }
      t.deepEqual(probe?.exec?.command, image.healthcheck!.command, `${where}: ${what} runs the image's health check, preheat probe`);
      t.regex(pod.env.PREHEAT_PORT ?? '', /^\d+$/, `${where}: preheat probe needs PREHEAT_PORT`);
      return 'exec';
    };
    kinds.add(check(c.readinessProbe, 'readinessProbe'));
    check(c.startupProbe, 'startupProbe');
    // Liveness is held back until the startup probe succeeds: that must cover the longest warm-up.
    const s = c.startupProbe;
    const startupSeconds = (s.initialDelaySeconds ?? 0) + (s.periodSeconds ?? 10) * (s.failureThreshold ?? 3);
    t.true(startupSeconds >= readinessBoundSeconds(pod.env), `${where}: startup probe lasts ${startupSeconds} s ≥ ${readinessBoundSeconds(pod.env)} s`);
    t.not(pod.env.PREHEAT_ON_DEADLINE, 'fail', `${where}: with PREHEAT_ON_DEADLINE=fail a pod that misses the deadline never starts`);
    t.truthy(c.livenessProbe, `${where}: livenessProbe`);
    t.not(c.livenessProbe?.httpGet?.path, pod.env.PREHEAT_GATE_PATH, `${where}: liveness is not gated`);
    t.notDeepEqual(c.livenessProbe?.exec?.command, image.healthcheck!.command, `${where}: liveness is not readiness`);
  }
  t.deepEqual([...kinds].sort(), ['exec', 'gate'], 'one recipe uses the gated path, one preheat probe');
});

test('each Deployment: a preStop sleep and a grace period that leaves the agent time to write, non-root, read-only root, PREHEAT_DIR on a volume', (t) => {
  const image = finalImage();
  const recipes = { baked: 0, shared: 0 };
  for (const pod of pods()) {
    const where = `${pod.file}: ${pod.name}`;
    const c = pod.container;
    const sleep = preStopSeconds(c);
    t.true(sleep !== null && sleep >= 1, `${where}: a preStop sleep`);
    // The agent's write at SIGTERM is milliseconds on a local disk (measured below, under tini);
    // on a network volume it also reads the other pods' files. At least 10 s are left to it and the app.
    t.true(exitBudgetSeconds(pod) >= 10, `${where}: ${exitBudgetSeconds(pod)} s between SIGTERM and SIGKILL`);

    t.true(pod.spec.securityContext?.runAsNonRoot === true || c.securityContext?.runAsNonRoot === true, `${where}: runAsNonRoot`);
    t.not(pod.spec.securityContext?.runAsUser ?? c.securityContext?.runAsUser, 0, `${where}: not uid 0`);
    t.is(c.securityContext?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
    t.is(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);

    // The only place the agent writes is a volume mounted at PREHEAT_DIR.
    const dir = pod.env.PREHEAT_DIR!;
    const mounts: any[] = c.volumeMounts ?? [];
    const mount = mounts.find((m) => m.mountPath === dir);
    t.truthy(mount, `${where}: a volume is mounted at PREHEAT_DIR=${dir}`);
    t.not(mount?.readOnly, true, `${where}: PREHEAT_DIR is writable`);
    const volume = (pod.spec.volumes ?? []).find((v: any) => v.name === mount?.name);
    t.truthy(volume, `${where}: volume ${mount?.name}`);
    // No mount hides the baked profile (PREHEAT_PROFILE_DIR; empty: the boot reads PREHEAT_DIR).
    const profileDir = pod.env.PREHEAT_PROFILE_DIR || dir;
    for (const m of mounts.filter((m) => m !== mount)) t.false(isUnder(profileDir, m.mountPath), `${where}: ${m.mountPath} hides ${profileDir}`);
    if (profileDir !== dir) {
      recipes.baked++;
      t.is(profileDir, image.env.PREHEAT_PROFILE_DIR, `${where}: reads the profile where the image bakes it`);
      t.false(isUnder(profileDir, dir), `${where}: the PREHEAT_DIR volume does not hide the baked profile`);
    }
    if (volume?.persistentVolumeClaim) {
      recipes.shared++;
      t.is(profileDir, dir, `${where}: the pods warm from what they record together`);
      const claim = pod.claims.get(volume.persistentVolumeClaim.claimName);
      t.truthy(claim, `${where}: the claim is in the same file`);
      t.true(claim?.spec.accessModes.includes('ReadWriteMany'), `${where}: a volume that pods on many nodes mount read-write`);
    }
  }
  t.deepEqual(recipes, { baked: 1, shared: 1 }, 'one Deployment reads a baked profile, one records into a shared volume');
});

// ---- at run time ---------------------------------------------------------------------------------

/** The user the runs below use: `nobody` when the tests run as root, else the tests' own (non-root already). */
const asRoot = process.getuid?.() === 0;
const runAs = (() => {
  if (!asRoot) return { ok: true, uid: process.getuid!(), gid: process.getgid!(), why: '' };
  const [uid, gid] = [65534, 65534];
  try {
    // nobody must reach node and this checkout (CI's may be under a private home).
    execFileSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(path.join(repo, 'dist', 'src', 'agent', 'main.js'))})`], { uid, gid, stdio: 'ignore' });
    return { ok: true, uid, gid, why: '' };
  } catch (error) {
    return { ok: false, uid, gid, why: `nobody (uid 65534) cannot run ${process.execPath} on ${repo}: ${(error as Error).message.split('\n')[0]}` };
  }
})();
if (!runAs.ok) console.error(`examples.test: ${runAs.why}; the non-root runs are skipped`);

/** Folders made read-only for a run, given their write bit back before the temporary folders are removed. */
const readOnly: string[] = [];
test.after.always(() => {
  for (const d of readOnly) fs.chmodSync(d, 0o755);
});

interface Layout {
  root: string;
  app: string;
  /** Host paths of the container's paths. */
  at: (containerPath: string) => string;
}

/**
 * The image's file system under a temporary root: the app (examples/docker/app, preheat linked
 * into its node_modules as npm installs it) owned by root and read-only to the user, the baked
 * folder chown'd to the user and read-only (a read-only root file system), PREHEAT_DIR the
 * user's, 0700. Only PREHEAT_DIR is writable by the user.
 */
function layout(image: Image, baked: string | null): Layout {
  const root = tempDir('preheat-image-');
  const at = (p: string) => path.join(root, p);
  const app = at(image.workdir);
  fs.mkdirSync(path.join(app, 'node_modules', '.bin'), { recursive: true });
  for (const f of fs.readdirSync(path.join(dockerDir, 'app'))) fs.copyFileSync(path.join(dockerDir, 'app', f), path.join(app, f));
  fs.symlinkSync(repo, path.join(app, 'node_modules', 'preheat'));
  fs.symlinkSync('../preheat/bin/preheat.js', path.join(app, 'node_modules', '.bin', 'preheat'));
  const profileDir = at(image.env.PREHEAT_PROFILE_DIR!);
  fs.mkdirSync(profileDir, { recursive: true });
  if (baked) fs.copyFileSync(baked, path.join(profileDir, 'profile.json'));
  const dir = at(image.env.PREHEAT_DIR!);
  fs.mkdirSync(dir, { recursive: true });
  // Modes and owners as in the image.
  for (let d = path.dirname(app); d.startsWith(root); d = path.dirname(d)) fs.chmodSync(d, 0o755);
  for (let d = path.dirname(profileDir); d.startsWith(root); d = path.dirname(d)) fs.chmodSync(d, 0o755);
  for (let d = path.dirname(dir); d.startsWith(root); d = path.dirname(d)) fs.chmodSync(d, 0o755);
  for (const f of fs.readdirSync(profileDir)) fs.chmodSync(path.join(profileDir, f), 0o444);
  fs.chmodSync(profileDir, 0o555);
  readOnly.push(profileDir);
  fs.chmodSync(dir, 0o700);
  if (asRoot) {
    fs.chownSync(profileDir, runAs.uid, runAs.gid);
    for (const f of fs.readdirSync(profileDir)) fs.chownSync(path.join(profileDir, f), runAs.uid, runAs.gid);
    fs.chownSync(dir, runAs.uid, runAs.gid);
  }
  return { root, app, at };
}

/** A container's environment on this machine: container paths under the layout's root, test ports, node on PATH. */
function hostEnv(env: Record<string, string>, l: Layout, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: Record<string, string> = { ...env };
  for (const name of ['PREHEAT_DIR', 'PREHEAT_PROFILE_DIR', 'PREHEAT_ROOT']) if (out[name]) out[name] = l.at(out[name]!);
  if (!hasProfileDir) delete out.PREHEAT_PROFILE_DIR;
  out.NODE_OPTIONS = (out.NODE_OPTIONS ?? '').replace(/(--require[= ])(\/\S+)/g, (_, flag: string, p: string) => flag + l.at(p));
  out.PATH = [path.join(l.app, 'node_modules', '.bin'), path.dirname(process.execPath), process.env.PATH].join(':');
  return cleanEnv({ ...out, HOST: '127.0.0.1', ...extra });
}

/** Every file under a folder with its size and mode, to see that nothing was written there. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isSymbolicLink()) out.push(`${full} -> ${fs.readlinkSync(full)}`);
      else if (e.isDirectory()) walk(full);
      else {
        const s = fs.statSync(full);
        out.push(`${full} ${s.size} ${s.mode.toString(8)} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

function startApp(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number }) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const listening = async (timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while (!/listening \d+/.test(stdout)) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no "listening" line: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, exited, listening, stdout: () => stdout, stderr: () => stderr };
}

/** Traffic on the example's hot path: `quote` for 20 products. */
async function traffic(port: number, n: number) {
  for (let i = 0; i < n; i++) {
    const r = await get(port, `/quote/sku-${i % 20}?qty=2000`);
    if (r.status !== 200) throw new Error(`/quote answered ${r.status}`);
  }
}

const ownFiles = (dir: string) => fs.readdirSync(dir).filter((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f) && !f.startsWith('profile.base-'));

let recording: Promise<{ file: string; profile: WarmupProfile }> | null = null;
/**
 * The recipes' first step, once: the example app records under the agent (staging, a canary), and
 * `preheat merge` of its directory makes the profile to bake.
 */
function recordAndMerge() {
  recording ??= (async () => {
    const image = finalImage();
    const l = layout(image, null);
    const dir = tempDir('preheat-recording-');
    const port = await freePort();
    const app = startApp(process.execPath, ['server.js'], {
      cwd: l.app,
      env: cleanEnv({ NODE_OPTIONS: `--require ${agent}`, PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PORT: String(port), HOST: '127.0.0.1' }),
    });
    await app.listening();
    await traffic(port, 400);
    app.child.kill('SIGTERM');
    await app.exited;
    const file = path.join(tempDir('preheat-baked-'), 'profile.json');
    const merge = await run(process.execPath, [cli, 'merge', dir, '--out', file], { env: cleanEnv() });
    if (merge.code !== 0) throw new Error(`preheat merge: ${merge.stderr}`);
    const parsed = parseProfile(fs.readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new Error(`the merged profile: ${parsed.reason}`);
    return { file, profile: parsed.profile };
  })();
  return recording;
}

test.serial('the recipes’ first step: the example app recorded under the agent, merged with preheat merge, holds its hot path and its requests', async (t) => {
  const { profile } = await recordAndMerge();
  t.true(profile.hotFunctions.some((f) => f.name === 'quote' && f.file === 'server.js'), profile.hotFunctions.map((f) => f.name).join(', '));
  t.true((profile.requests ?? []).some((r) => r.url.startsWith('/quote/sku-')), (profile.requests ?? []).map((r) => r.url).join(', '));
});

/** Runs the image's health check (`preheat probe`) as the user, from the root directory, until it exits 0. */
async function probeUntilReady(command: string[], l: Layout, env: NodeJS.ProcessEnv, timeoutMs = 90_000) {
  const seen: { code: number | null; stderr: string }[] = [];
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(command[0]!, command.slice(1), { cwd: l.root, env, uid: runAs.uid, gid: runAs.gid, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    seen.push(r);
    if (r.code === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

(runAs.ok ? test.serial : test.serial.skip)(
  'shared-volume.yaml at run time: as a non-root user, the app read-only, the pod warms from PREHEAT_DIR, preheat probe says 1 then 0, and the pod records a file of its own',
  async (t) => {
    const { file: baked } = await recordAndMerge();
    const image = finalImage();
    const pod = pods().find((p) => p.container.readinessProbe?.exec)!;
    const l = layout(image, null);
    // The volume holds what earlier pods recorded (here: the merged recording).
    const dir = l.at(pod.env.PREHEAT_DIR!);
    fs.copyFileSync(baked, path.join(dir, 'profile.json'));
    if (asRoot) fs.chownSync(path.join(dir, 'profile.json'), runAs.uid, runAs.gid);
    const before = { app: snapshot(l.app), image: snapshot(l.at(image.env.PREHEAT_PROFILE_DIR!)) };
    const [port, readyPort] = [await freePort(), await freePort()];
    // A slow boot (1.5 s before the app listens), so that the probe meets the agent's 503 first.
    // The pod records a few seconds of traffic: at the default 25 Hz a run can hold no sample in the
    // app's code, and the agent then rightly warns PREHEAT_W016 (seen once in a CI run on Node 20).
    const env = hostEnv(pod.env, l, { PORT: String(port), PREHEAT_PORT: String(readyPort), PREHEAT_DEADLINE_MS: '120000', PREHEAT_SAMPLE_INTERVAL_MICROS: '1000' });
    env.NODE_OPTIONS += ` --require ${fixture('preload', 'slow-listen.js')}`;
    const app = startApp(image.cmd[0] === 'node' ? process.execPath : image.cmd[0]!, image.cmd.slice(1), { cwd: l.app, env, uid: runAs.uid, gid: runAs.gid });
    const probes = await probeUntilReady(pod.container.readinessProbe.exec.command, l, env);
    const status = JSON.parse((await get(readyPort, '/status')).body);
    await traffic(port, 300);
    app.child.kill('SIGTERM');
    const exit = await app.exited;

    const first503 = probes.findIndex((p) => p.code === 1 && /^preheat: not ready: 503 /m.test(p.stderr));
    t.true(first503 >= 0, `a probe met the warming agent's 503: ${JSON.stringify(probes.slice(0, 3))}`);
    t.is(probes[probes.length - 1]!.code, 0, probes[probes.length - 1]!.stderr);
    t.is(status.phase, 'ready', status.reason);
    t.true(status.hot > 0 && status.replayed > 0, JSON.stringify(status));
    t.is(exit.signal, 'SIGTERM', 'the signal ended the app, as without preheat');
    // One file of its own beside the profile, the app's: no probe started an agent.
    const own = ownFiles(dir);
    t.is(own.length, 1, fs.readdirSync(dir).join(', '));
    const mine = parseProfile(fs.readFileSync(path.join(dir, own[0]!), 'utf8'));
    // Warmed, `quote` is too quick to be sure of a sample: the recording is the app's, whatever it holds.
    t.true(mine.ok && mine.profile.hotFunctions.some((f) => f.file === 'server.js'), 'the pod recorded the app');
    if (asRoot) t.is(fs.statSync(path.join(dir, own[0]!)).uid, runAs.uid);
    t.deepEqual({ app: snapshot(l.app), image: snapshot(l.at(image.env.PREHEAT_PROFILE_DIR!)) }, before, 'nothing was written outside PREHEAT_DIR');
    t.deepEqual(warnings(app.stderr()), []);
  },
);

(runAs.ok && hasProfileDir ? test.serial : test.serial.skip)(
  'deployment.yaml at run time: the pod warms from the baked, read-only PREHEAT_PROFILE_DIR, its gated /healthz says 503 then 200, and it records into PREHEAT_DIR only',
  async (t) => {
    const { file: baked } = await recordAndMerge();
    const image = finalImage();
    const pod = pods().find((p) => p.container.readinessProbe?.httpGet)!;
    const l = layout(image, baked);
    const profileDir = l.at(pod.env.PREHEAT_PROFILE_DIR!);
    const dir = l.at(pod.env.PREHEAT_DIR!);
    const before = { app: snapshot(l.app), baked: snapshot(profileDir) };
    const [port, readyPort] = [await freePort(), await freePort()];
    // The pod records a few seconds of traffic: at the default 25 Hz a run can hold no sample in the
    // app's code, and the agent then rightly warns PREHEAT_W016 (seen once in a CI run on Node 20).
    const env = hostEnv(pod.env, l, { PORT: String(port), PREHEAT_PORT: String(readyPort), PREHEAT_DEADLINE_MS: '120000', PREHEAT_SAMPLE_INTERVAL_MICROS: '1000' });
    env.NODE_OPTIONS += ` --require ${fixture('preload', 'slow-listen.js')}`;
    const app = startApp(process.execPath, image.cmd.slice(1), { cwd: l.app, env, uid: runAs.uid, gid: runAs.gid });
    await app.listening();
    // The kubelet's readiness probe: the app's own gated path on the app's port.
    const path_ = pod.container.readinessProbe.httpGet.path;
    const answers: number[] = [];
    const end = Date.now() + 90_000;
    while (Date.now() < end && answers[answers.length - 1] !== 200) {
      answers.push((await get(port, path_).catch(() => ({ status: 0 }))).status);
      await new Promise((r) => setTimeout(r, 50));
    }
    const status = JSON.parse((await get(readyPort, '/status')).body);
    await traffic(port, 300);
    app.child.kill('SIGTERM');
    const exit = await app.exited;

    t.true(answers.includes(503), answers.join(' '));
    t.is(answers[answers.length - 1], 200, answers.join(' '));
    t.is(status.phase, 'ready', status.reason);
    t.true(status.hot > 0 && status.replayed > 0, JSON.stringify(status));
    t.is(exit.signal, 'SIGTERM');
    const own = ownFiles(dir);
    t.is(own.length, 1, fs.readdirSync(dir).join(', '));
    t.deepEqual({ app: snapshot(l.app), baked: snapshot(profileDir) }, before, 'the baked profile and the app are as the image has them');
    t.deepEqual(warnings(app.stderr()), []);
  },
);

/** The pid of a process's only child, and its pid in its own PID namespace. */
function childOf(ppid: number): { pid: number; nsPid: number } | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== ppid) continue;
      const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
      return { pid: Number(entry), nsPid: Number(ns[ns.length - 1]) };
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

const which = (name: string) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
};
const init = (() => {
  const image = finalImage();
  const tini = fs.existsSync(image.entrypoint[0] ?? '') ? image.entrypoint[0]! : which('tini');
  const unshare = which('unshare');
  const why = !asRoot ? 'a PID namespace needs root' : !unshare ? 'unshare (util-linux) is not installed' : !tini ? 'tini is not installed (apt-get install tini)' : '';
  return { tini, unshare, why };
})();
if (init.why) console.error(`examples.test: ${init.why}; the PID 1 test is skipped`);

(init.why ? test.serial.skip : test.serial)(
  "PID 1: under the image's ENTRYPOINT (tini) SIGTERM ends the app by that signal after the agent wrote, well within the manifests' grace; node alone as PID 1 outlives it",
  async (t) => {
    const image = finalImage();
    const budget = Math.min(...pods().map(exitBudgetSeconds));
    const boot = async (entrypoint: string[]) => {
      const l = layout(image, null);
      const port = await freePort();
      const env = hostEnv(image.env, l, { PORT: String(port), PREHEAT_PORT: String(await freePort()) });
      const node = image.cmd[0] === 'node' ? process.execPath : image.cmd[0]!;
      const app = startApp(init.unshare!, ['--pid', '--fork', '--kill-child', ...entrypoint, node, ...image.cmd.slice(1)], { cwd: l.app, env });
      await app.listening();
      await traffic(port, 300);
      const pid1 = childOf(app.child.pid!);
      return { app, pid1, dir: l.at(image.env.PREHEAT_DIR!) };
    };

    const withInit = await boot([init.tini!, ...image.entrypoint.slice(1)]);
    t.is(withInit.pid1?.nsPid, 1, 'tini is PID 1');
    const sent = Date.now();
    process.kill(withInit.pid1!.pid, 'SIGTERM');
    const exit = await withInit.app.exited;
    const seconds_ = (exit.at - sent) / 1000;
    t.log(`SIGTERM to exit under tini, the agent's write included: ${seconds_.toFixed(2)} s (the manifests leave ${budget} s)`);
    t.is(exit.code, 128 + 15, 'tini exits as its child died: by SIGTERM');
    t.true(seconds_ < budget / 4, `${seconds_} s`);
    t.is(ownFiles(withInit.dir).length, 1, 'the agent wrote the recording');
    t.deepEqual(warnings(withInit.app.stderr()), []);

    // Without an init: the agent writes and raises SIGTERM again, which the kernel ignores for PID 1.
    const bare = await boot([]);
    t.is(bare.pid1?.nsPid, 1, 'node is PID 1');
    process.kill(bare.pid1!.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 2000));
    const alive = bare.app.child.exitCode === null && fs.existsSync(`/proc/${bare.pid1!.pid}`);
    process.kill(bare.pid1!.pid, 'SIGKILL');
    await bare.app.exited;
    t.true(alive, 'node as PID 1 was still running 2 s after SIGTERM');
    t.is(ownFiles(bare.dir).length, 1, 'its recording was written all the same');
  },
);

// ---- the preheat command under NODE_OPTIONS ------------------------------------------------------

test('the preheat command never starts the agent that NODE_OPTIONS preloads, through a link as npm installs it', async (t) => {
  const work = tempDir();
  const bin = path.join(work, 'node_modules', '.bin', 'preheat');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.symlinkSync(cli, bin);
  const dir = path.join(work, 'recordings');
  const port = await freePort();
  const env = cleanEnv({ NODE_OPTIONS: `--require ${agent}`, PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_LOG_LEVEL: 'debug' });

  // The same environment starts the agent in any other program: the preload is in force.
  const app = path.join(work, 'app.js');
  fs.writeFileSync(app, '');
  const control = await run(process.execPath, [app], { env, cwd: work });
  t.regex(control.stderr, /^preheat: readiness on http:\/\/127\.0\.0\.1:\d+\/ready$/m, control.stderr);

  fs.rmSync(dir, { recursive: true, force: true });
  const probe = await run(process.execPath, [bin, 'probe'], { env, cwd: work });
  t.is(probe.code, 1);
  // Nothing answered on PREHEAT_PORT: the probe did not start a readiness server of its own to ask.
  t.deepEqual(warnings(probe.stderr), [`preheat: not ready: connect ECONNREFUSED 127.0.0.1:${port}`]);
  t.false(fs.existsSync(dir), 'the probe recorded nothing into PREHEAT_DIR');
});

test('NODE_OPTIONS=--require preheat/agent stops node from starting outside the app folder; the full path the image uses does not', async (t) => {
  const image = finalImage();
  const l = layout(image, null);
  const elsewhere = tempDir();
  const bare = await run(process.execPath, ['-e', '0'], { env: cleanEnv({ NODE_OPTIONS: '--require preheat/agent', PREHEAT_MODE: 'off' }), cwd: elsewhere });
  t.is(bare.code, 1);
  t.regex(bare.stderr, /Cannot find module 'preheat\/agent'/);
  const full = await run(process.execPath, ['-e', '0'], { env: hostEnv(image.env, l, { PREHEAT_MODE: 'off' }), cwd: elsewhere });
  t.is(full.code, 0, full.stderr);
  t.is(full.stderr, '');
});

