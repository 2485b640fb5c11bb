/**
 * One number per UTC day, drawn by uPlot: the day's total as bars, and one line per
 * key or account on top (grouped bars for many series would be unreadable at phone width).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface DaySeries {
  label: string;
  values: number[];
}

// Distinguishable in light and dark mode alike.
const COLORS = ['#2f7cf6', '#e8590c', '#2b8a3e', '#ae3ec9', '#c2255c', '#0c8599', '#f08c00', '#5c7cfa'];

export function DayChart({ title, days, series, unit }: { title: string; days: string[]; series: DaySeries[]; unit: string }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const bars = uPlot.paths.bars!({ size: [0.7, 40], align: 0 });
    const total = days.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
    const value = (_u: uPlot, v: number | null) => (v === null ? '–' : `${v} ${unit}`);
    const opts: uPlot.Options = {
      width: Math.max(260, el.clientWidth),
      height: 220,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      // Half a day of room on each side, so the first and last bars are drawn whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' }, size: 60 },
      ],
      series: [
        {},
        { label: 'All', fill: 'rgba(128,128,128,0.35)', stroke: 'rgba(128,128,128,0.6)', paths: bars, points: { show: false }, value },
        ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 5 }, value })),
      ],
    };
    const data: uPlot.AlignedData = [xs, total, ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(260, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, unit]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={holder} role="img" aria-label={`${title}: ${series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)} ${unit}`).join('; ') || 'no data'}`} />
    </figure>
  );
}
