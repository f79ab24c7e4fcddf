// Round-trip times of a ping run, drawn by uPlot (fast at tens of thousands of points).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PingReply } from '../../../common/contract';

export function RttChart({ replies, label }: { replies: readonly PingReply[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    // Colours that read on light and dark alike, so a theme switch needs no redraw.
    const stroke = '#3b82f6';
    const grid = 'rgba(128, 128, 128, 0.22)';
    const text = '#8a94a3';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 160,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false } },
        axes: [
          { ...axis, label: 'sequence', labelSize: 14, labelFont: '11px system-ui, sans-serif' },
          { ...axis, label: 'RTT (ms)', labelSize: 14, labelFont: '11px system-ui, sans-serif', size: 48 },
        ],
        series: [{}, { label: 'RTT', stroke, width: 1.5, points: { show: true, size: 4, fill: stroke }, spanGaps: false }],
      },
      [[], []],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 160 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    const xs: number[] = [];
    const ys: (number | null)[] = [];
    for (const reply of replies) {
      xs.push(reply.sequence);
      ys.push(reply.status === 'reply' && reply.rtt !== undefined ? reply.rtt : null);
    }
    plot.current?.setData([xs, ys]);
  }, [replies]);

  return <div ref={host} className="rtt-chart" role="img" aria-label={label} />;
}
