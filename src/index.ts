/**
 * preheat's API. The agent is usually preloaded (`node --require preheat/agent app.js`); `start`
 * is the same agent for apps that prefer to start it in code, as early as possible.
 */
import { startAgent, type Agent } from './agent/main';
import type { Options } from './config/options';

export type { Agent } from './agent/main';
export type { Options, Mode, SamplerChoice } from './config/options';
export { defaults as defaultOptions } from './config/options';
export { resolveOptions } from './config/resolve';
export type { WarmupProfile, HotFunction, SampleTotals, RecordedRequest } from './profile/schema';
export type { Status, Phase } from './readiness/state';
export { SCHEMA_VERSION, parseProfile } from './profile/schema';
export { readProfile, PROFILE_FILE } from './profile/store';
export { mergeInstances, nextGeneration } from './profile/merge';
export type { CpuProfile } from './profile/cpuprofile';
export type { StackModel, Frame, StackNode } from './profile/stack-model';
export { fromCpuProfile, mergeInto } from './profile/stack-model';
export { Codes } from './errors';

/**
 * Starts the agent with these options over the PREHEAT_* environment. Returns null when it does
 * not run (mode off, no sampler, a worker thread); never throws.
 */
export function start(options: Partial<Options> = {}): Agent | null {
  return startAgent(options);
}

/**
 * Resolves when the agent's warm-up has ended: true once the instance reports ready (the hot set
 * is optimized, or the deadline passed with PREHEAT_ON_DEADLINE=ready), false when it stays not
 * ready. Resolves true at once when no agent runs in this process.
 */
export function ready(): Promise<boolean> {
  const registry = (globalThis as Record<symbol, { agent: Agent | null } | undefined>)[Symbol.for('preheat.agent.v0')];
  return registry?.agent ? registry.agent.ready() : Promise.resolve(true);
}
