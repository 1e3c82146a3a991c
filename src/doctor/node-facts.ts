import * as nodeModule from 'node:module';
import * as v8 from 'node:v8';
import { canCaptureHttp2 } from '../capture/request-capture';
import { createNativeSampler } from '../sampler/native-sampler';
import { tierFlagsFor } from '../warmup/tier-flags';

/**
 * What a Node binary offers the agent, found by running this file under it (`preheat doctor`
 * never starts the service, but the sampler's addon and V8's features belong to the binary that
 * will run it, not to the one running the doctor).
 */
export interface NodeFacts {
  node: string;
  v8: string;
  /** The ABI the native addon must be built for. */
  modules: string;
  /** `null` when the addon loaded; otherwise why not. */
  nativeSampler: string | null;
  /** Where v8-profiler-next is installed, if it is (built or not). */
  nativeSamplerPackage: string | null;
  compileCache: boolean;
  http2Capture: boolean;
  /** V8's tiering flags that PREHEAT_WARM_TIERING=lowered would change; empty where unknown. */
  tierFlags: string[];
  /** Whether V8 accepts natives syntax at run time (the optimizer needs it). */
  natives: string | null;
}

export function nodeFacts(): NodeFacts {
  let nativeSamplerPackage: string | null = null;
  try {
    nativeSamplerPackage = require.resolve('v8-profiler-next/package.json');
  } catch {
    // Not installed: it is an optional dependency.
  }
  let nativeSampler: string | null = null;
  try {
    createNativeSampler(1000).dispose();
  } catch (error) {
    nativeSampler = String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 300);
  }
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    modules: process.versions.modules,
    nativeSampler,
    nativeSamplerPackage,
    compileCache: typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function',
    http2Capture: canCaptureHttp2(),
    tierFlags: tierFlagsFor(process.versions.v8).map((f) => f.name),
    natives: nativesProblem(),
  };
}

function nativesProblem(): string | null {
  try {
    v8.setFlagsFromString('--allow-natives-syntax');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const tier = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
    return typeof tier(() => 0) === 'number' ? null : 'natives syntax did not answer';
  } catch (error) {
    return String((error as Error)?.message ?? error).split('\n')[0]!;
  } finally {
    v8.setFlagsFromString('--no-allow-natives-syntax');
  }
}

// Run as a script by `preheat doctor`: the facts, as one JSON line on stdout.
if (require.main === module) process.stdout.write(JSON.stringify(nodeFacts()) + '\n');
