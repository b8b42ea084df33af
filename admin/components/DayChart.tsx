import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line of a day chart: its name, its values per day, and how it is drawn. */
export interface DaySeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Drawn on the right-hand axis as a percentage (a rate from 0 to 1). */
  rate?: boolean;
}

const HEIGHT = 260;

/**
 * A chart of figures per UTC day, drawn by uPlot (a maintained chart library) on a canvas. A canvas
 * says nothing to a screen reader, so the page puts the same figures in a table beside it; the
 * chart itself is labelled as the picture of that table.
 */
export function DayChart({
  label,
  unit,
  days,
  series,
}: {
  label: string;
  /** What the left axis counts (texts, people). */
  unit: string;
  days: string[];
  series: DaySeries[];
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const x = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const hasRate = series.some((s) => s.rate === true);
    const chart = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true }, rate: { range: [0, 1] } },
        axes: [
          {},
          { label: unit, size: 60 },
          ...(hasRate
            ? [
                {
                  scale: 'rate',
                  side: 1,
                  grid: { show: false },
                  values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${Math.round(t * 100)}%`),
                },
              ]
            : []),
        ],
        series: [
          { label: 'Day (UTC)' },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            scale: s.rate === true ? 'rate' : 'y',
            value: (_u: uPlot, v: number | null) =>
              v === null ? '—' : s.rate === true ? `${Math.round(v * 100)}%` : v.toLocaleString(),
          })),
        ],
      },
      [x, ...series.map((s) => s.values)],
      element,
    );
    // The chart follows its box as the window is resized (laptop widths included).
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(320, element.clientWidth), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days, series, unit]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
