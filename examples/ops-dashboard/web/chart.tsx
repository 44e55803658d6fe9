/** A small SVG line chart of one or more series over a shared time window, its scale above it. */
export interface Series {
  name: string;
  className: string;
  points: ReadonlyArray<{ ts: number; value: number }>;
}

export function LineChart({
  title,
  series,
  from,
  to,
  height = 80,
  width = 320,
  unit,
  floor = 0,
}: {
  title: string;
  series: Series[];
  from: number;
  to: number;
  height?: number;
  width?: number;
  unit: string;
  floor?: number;
}) {
  const visible = series.map((s) => ({ ...s, points: s.points.filter((p) => p.ts >= from) }));
  const max = Math.max(floor, ...visible.flatMap((s) => s.points.map((p) => p.value)), 1);
  const span = Math.max(1, to - from);
  const x = (ts: number) => ((ts - from) / span) * width;
  const y = (v: number) => height - 3 - (v / max) * (height - 8);
  const count = visible.reduce((n, s) => n + s.points.length, 0);
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span>
        <span className="scale">
          max {Math.round(max).toLocaleString()} {unit}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" data-points={count} role="img" aria-label={title}>
        <line x1="0" y1={y(max)} x2={width} y2={y(max)} className="gridline" />
        <line x1="0" y1={y(max / 2)} x2={width} y2={y(max / 2)} className="gridline" />
        {visible.map((s) =>
          s.points.length > 1 ? (
            <polyline
              key={s.name}
              className={s.className}
              fill="none"
              strokeWidth="1.6"
              strokeLinejoin="round"
              vectorEffect="non-scaling-stroke"
              points={s.points.map((p) => `${x(p.ts).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}
            />
          ) : null,
        )}
      </svg>
    </figure>
  );
}
