import { FaultKind, GateState, GateTick, ResilienceGatePlan } from '@release-pilot/plugin-releases-common';
import { activeFault, endedFault, newGateState, updateGate } from '../resilience/gate';
import { SeededRandom } from './random';

/**
 * The resilience gate's instances in virtual time: what one instance answers to the gate's
 * synthetic load in one tick, healthy or `fragile`, with or without a fault.
 *
 * A healthy instance slows down with its dependency and passes its errors on, but keeps up. A
 * fragile one (the checkout incident's mechanism) holds its dependency connections in a small pool:
 * by Little's law it needs rps × latency of them at once, and once that exceeds the pool, requests
 * queue until they time out. Under extra dependency latency its errors and latency explode, and
 * after the fault its leaked connections come back only slowly.
 */

export interface GateInstance {
  fragile: boolean;
  /** Requests per second of the gate's load on this instance. */
  rps: number;
  /** Its error rate under any fault, times this (1: as the stable version). */
  errorFactor?: number;
}

export interface ActiveFault {
  kind: FaultKind;
  intensity?: number;
}

/** The fault an experiment puts on the instances. */
export function faultOf(experiment: { fault: FaultKind; intensity?: number }): ActiveFault {
  return { kind: experiment.fault, intensity: experiment.intensity };
}

/** Dependency connections a fragile instance holds; requests wait at most this long for one. */
export const FRAGILE_POOL = 8;
const FRAGILE_TIMEOUT_MS = 1000;
/** Seconds a fragile instance needs after a fault to get its leaked connections back. */
export const FRAGILE_LEAK_SECONDS = 20;
const BASE_MEDIAN_MS = 20;
const BASE_SIGMA = 0.4;
const BASE_ERROR_RATE = 0.001;

/** The dependency latency a fault adds (ms). */
function addedLatency(fault: ActiveFault | undefined): number {
  switch (fault?.kind) {
    case 'dependencyLatency':
      return fault.intensity ?? 200;
    case 'dependencyUnavailable':
      return 5;
    case 'cpuPressure':
      return BASE_MEDIAN_MS * ((fault.intensity ?? 80) / 100);
    case 'memoryPressure':
      // Page reclaim and cache misses: a little slower, more so the more memory is taken.
      return BASE_MEDIAN_MS * ((fault.intensity ?? 50) / 200);
    default:
      return 0;
  }
}

/** Whether a fragile instance at `rps` runs out of dependency connections under `fault`. */
function exhausts(rps: number, fault: ActiveFault | undefined): boolean {
  return rps * ((BASE_MEDIAN_MS + addedLatency(fault)) / 1000) > FRAGILE_POOL;
}

/**
 * One tick of an instance: `seconds` of load, under `fault` (undefined: none); `after` says which
 * fault ended how many seconds ago (undefined: none yet, or long ago).
 */
export function simulateGateTick(random: SeededRandom, instance: GateInstance, seconds: number, fault?: ActiveFault, after?: { fault: ActiveFault; seconds: number }): GateTick {
  const requests = random.poisson(instance.rps * seconds);
  const addedMs = addedLatency(fault);
  let errorRate = BASE_ERROR_RATE;
  let down = false;
  switch (fault?.kind) {
    case 'dependencyErrors':
      errorRate += fault.intensity ?? 0.1;
      break;
    case 'dependencyUnavailable':
      // Both versions answer from their fallback, a little slower (see addedLatency).
      errorRate += 0.02;
      break;
    case 'instanceKill':
    case 'instancePause':
      // A stopped process answers nothing either: its requests time out.
      down = true;
      break;
    case 'packetLoss':
      errorRate += (fault.intensity ?? 0.05) / 10;
      break;
    default:
      break;
  }
  if (down) return { requests, errors: requests, latenciesMs: [] };
  if (fault) errorRate *= instance.errorFactor ?? 1;
  // The fragile pool: exhausted under the fault's extra latency, and for a while after such a fault.
  const leaking = instance.fragile && after !== undefined && after.seconds < FRAGILE_LEAK_SECONDS && exhausts(instance.rps, after.fault);
  const needed = instance.rps * ((BASE_MEDIAN_MS + addedMs) / 1000);
  const exhausted = instance.fragile && (exhausts(instance.rps, fault) || leaking);
  const servedShare = exhausted ? Math.min(1, FRAGILE_POOL / Math.max(needed, instance.rps * 0.25)) * (leaking ? 0.6 : 1) : 1;
  const latenciesMs: number[] = [];
  let errors = 0;
  for (let i = 0; i < requests; i++) {
    if (exhausted && random.uniform() > servedShare) {
      errors++;
      latenciesMs.push(FRAGILE_TIMEOUT_MS);
      continue;
    }
    const queued = exhausted ? random.uniform() * FRAGILE_TIMEOUT_MS * 0.8 : 0;
    latenciesMs.push(random.lognormal(BASE_MEDIAN_MS, BASE_SIGMA) + addedMs + queued);
    if (random.uniform() < errorRate) errors++;
  }
  return { requests, errors, latenciesMs };
}

/** A gate run in virtual time: its final state, its length, and when each fault was on. */
export interface SimulatedGate {
  state: GateState;
  seconds: number;
  /** Seconds from the gate's start to each second a fault was on. */
  faultSeconds: number[];
  /** Per experiment (by index), the second its fault began. */
  faultStartedAt: number[];
}

/**
 * Runs a gate tick by tick (`tickSeconds`) on a simulated canary (`fragile` or not) and a healthy
 * stable instance, both at `rps`, until it has a verdict (at most an hour).
 */
export function simulateGate(plan: ResilienceGatePlan, canary: { fragile: boolean; rps?: number; errorFactor?: number }, seed: number, tickSeconds = 1, stableRps = 50): SimulatedGate {
  const random = new SeededRandom(seed);
  let state = newGateState(plan.experiments);
  let seconds = 0;
  const faultSeconds: number[] = [];
  const faultStartedAt: number[] = [];
  while (!state.verdict && seconds < 3600) {
    const on = activeFault(state);
    if (on) faultSeconds.push(seconds);
    if (on && faultStartedAt[state.index] === undefined) faultStartedAt[state.index] = seconds;
    const ended = endedFault(state);
    const fault = on && faultOf(on);
    const after = ended && { fault: faultOf(ended.experiment), seconds: ended.seconds };
    state = updateGate(
      state,
      {
        canary: simulateGateTick(random, { fragile: canary.fragile, rps: canary.rps ?? stableRps, errorFactor: canary.errorFactor }, tickSeconds, fault, after),
        stable: simulateGateTick(random, { fragile: false, rps: stableRps }, tickSeconds, fault, after),
        seconds: tickSeconds,
      },
      plan,
    );
    seconds += tickSeconds;
  }
  return { state, seconds, faultSeconds, faultStartedAt };
}
