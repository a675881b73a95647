// A force–deflection chart (uPlot): deflection (mm) across, force (kN) up,
// the target deflection as a vertical dashed line, and optionally the force
// at the target as a marker. The data arrays may grow in place (the live
// chart): bump `version` to redraw.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const FONT = '13px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif';

export interface ChartProps {
  xs: number[];
  ys: number[];
  version: number;
  target?: number | null;
  marker?: { x: number; y: number } | null;
  height?: number;
  label: string;
  xLabel?: string;
  yLabel?: string;
}

export function ForceChart({ xs, ys, version, target, marker, height = 320, label,
                             xLabel = 'Deflection (mm)', yLabel = 'Force (kN)' }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // what the range functions and the draw hook read (they outlive renders)
  const cur = useRef({ xs, ys, target, marker });
  cur.current = { xs, ys, target, marker };

  useEffect(() => {
    const el = box.current!;
    const extent = () => {
      const { xs: x, ys: y, target: t, marker: mk } = cur.current;
      let x1 = t && t > 0 ? t * 1.15 : 1, y0 = 0, y1 = 0.1;
      for (let i = 0; i < x.length; i++) {
        if (x[i] > x1) x1 = x[i];
        if (y[i] > y1) y1 = y[i];
        if (y[i] < y0) y0 = y[i];
      }
      if (mk && mk.y > y1) y1 = mk.y;
      return { x1, y0, y1: y1 * 1.08 };
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: {
        x: { time: false, range: () => [0, extent().x1] },
        y: { range: () => { const e = extent(); return [e.y0, e.y1]; } },
      },
      axes: [
        { label: xLabel, stroke: '#1f2937', font: FONT, labelFont: FONT, grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#9ca3af' } },
        { label: yLabel, stroke: '#1f2937', font: FONT, labelFont: FONT, grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#9ca3af' }, size: 56 },
      ],
      series: [
        { label: 'Deflection' },
        { label: 'Force', stroke: '#0b5cad', width: 2, points: { show: false } },
      ],
      hooks: {
        draw: [(u) => {
          const { target: t, marker: mk } = cur.current;
          const ctx = u.ctx;
          const { left, top, width, height: h } = u.bbox;
          ctx.save();
          if (t && t > 0) {
            const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
            if (x >= left && x <= left + width) {
              ctx.strokeStyle = '#b45309';
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + h);
              ctx.stroke();
              ctx.setLineDash([]);
              ctx.fillStyle = '#92400e';
              ctx.font = FONT.replace('13px', `${Math.round(12 * devicePixelRatio)}px`);
              const text = `target ${t.toFixed(2)} mm`;
              const tw = ctx.measureText(text).width;
              const tx = x - tw - 6 * devicePixelRatio > left ? x - tw - 6 * devicePixelRatio : x + 6 * devicePixelRatio;
              ctx.fillText(text, tx, top + 16 * devicePixelRatio);
            }
          }
          if (mk) {
            const x = u.valToPos(mk.x, 'x', true), y = u.valToPos(mk.y, 'y', true);
            ctx.fillStyle = '#b45309';
            ctx.beginPath();
            ctx.arc(x, y, 5 * devicePixelRatio, 0, 2 * Math.PI);
            ctx.fill();
          }
          ctx.restore();
        }],
      },
    };
    const u = new uPlot(opts, [cur.current.xs, cur.current.ys], el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, [height]);

  useEffect(() => {
    plot.current?.setData([xs, ys], true);
  }, [version, xs, ys, target, marker?.x, marker?.y]);

  const last = xs.length ? `; last point ${xs[xs.length - 1].toFixed(2)} mm, ${ys[ys.length - 1].toFixed(3)} kN` : '';
  return (
    <figure class="chart" style={{ minHeight: `${height}px` }}>
      <div ref={box} class="chart-canvas" role="img"
        aria-label={`${label}: ${xs.length} points${last}${target ? `; target deflection ${target.toFixed(2)} mm` : ''}`} />
    </figure>
  );
}
