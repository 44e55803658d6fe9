/** A small SVG line of the values, oldest first; green when the last is at or above the first. */
export function Sparkline({ values, width = 120, height = 32, className }: { values: readonly number[]; width?: number; height?: number; className?: string }) {
  if (values.length < 2) return <svg className={`sparkline ${className ?? ''}`} width={width} height={height} viewBox={`0 0 ${width} ${height}`} />;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`);
  const up = values[values.length - 1]! >= values[0]!;
  return (
    <svg className={`sparkline ${up ? 'up' : 'down'} ${className ?? ''}`} width={width} height={height} viewBox={`0 0 ${width} ${height}`} data-points={values.length}>
      <polyline points={points.join(' ')} fill="none" strokeWidth="1.5" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}
