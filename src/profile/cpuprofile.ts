/**
 * The Chrome DevTools CPU profile format (`.cpuprofile`): what the inspector's Profiler domain,
 * `node --cpu-prof` and DevTools write, and what speedscope opens. Positions are 0-based.
 */
export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface PositionTick {
  /** 1-based source line. */
  line: number;
  ticks: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: PositionTick[];
  deoptReason?: string;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds, on the profiler's clock. */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}
