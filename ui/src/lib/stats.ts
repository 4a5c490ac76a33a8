import type { StatsSample } from "../api/types";

export interface StatsPoint {
  sample: StatsSample;
  /** Bytes per second since the previous sample (0 for the first). */
  netRxRate: number;
  netTxRate: number;
  blockReadRate: number;
  blockWriteRate: number;
}

function rate(now: number, before: number | undefined, seconds: number): number {
  if (before === undefined || now < before) return 0; // counters reset when a container restarts
  return (now - before) / seconds;
}

/** Appends a sample (one a second, per the contract) and keeps the newest `max`. */
export function pushSample(history: StatsPoint[], sample: StatsSample, max = 60, intervalSeconds = 1): StatsPoint[] {
  const prev = history.length ? history[history.length - 1].sample : undefined;
  const point: StatsPoint = {
    sample,
    netRxRate: rate(sample.netRxBytes, prev?.netRxBytes, intervalSeconds),
    netTxRate: rate(sample.netTxBytes, prev?.netTxBytes, intervalSeconds),
    blockReadRate: rate(sample.blockReadBytes, prev?.blockReadBytes, intervalSeconds),
    blockWriteRate: rate(sample.blockWriteBytes, prev?.blockWriteBytes, intervalSeconds),
  };
  const next = history.concat(point);
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * An SVG path for a sparkline of `values` in a `width` x `height` box. The scale's top is
 * max(values, minTop) so a flat idle line sits at the bottom instead of filling the box.
 */
export function sparklinePath(values: number[], width: number, height: number, minTop = 0): string {
  if (!values.length) return "";
  const top = Math.max(minTop, ...values) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const pad = 1;
  return values
    .map((v, i) => {
      const x = values.length > 1 ? i * step : width;
      const y = height - pad - (Math.max(0, v) / top) * (height - 2 * pad);
      return `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

export function memoryFraction(s: StatsSample): number {
  return s.memoryLimit > 0 ? Math.min(1, s.memoryBytes / s.memoryLimit) : 0;
}
