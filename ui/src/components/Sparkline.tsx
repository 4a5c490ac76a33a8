import { sparklinePath } from "../lib/stats";

export function Sparkline({ values, minTop = 0, width = 160, height = 36 }: { values: number[]; minTop?: number; width?: number; height?: number }) {
  const d = sparklinePath(values, width, height, minTop);
  return (
    <svg className="sparkline" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
      {d && <path className="sparkline-area" d={`${d} L${width},${height} L0,${height} Z`} />}
      {d && <path className="sparkline-line" d={d} />}
    </svg>
  );
}
