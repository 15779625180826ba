'use client';

import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { CatalogEvaluation, PrPoint } from '@/lib/types';

export interface Mark {
  label: string;
  threshold: number;
  point: PrPoint | null;
  color: string;
  dashed?: boolean;
}

const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : String(v));
const pct = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 100)}%` : String(v));

/** The F1 chart's curves: data key, legend name, line width (F1 drawn strongest). */
const F1_SERIES = [
  ['f1', 'F1', 2],
  ['precision', 'precision', 1.5],
  ['recall', 'recall', 1.5],
] as const;

/** The marks as vertical lines at their thresholds (a function, not a component: charts
 * recognise their children by element type). */
function thresholdLines(marks: Mark[]) {
  return marks.map((m) => (
    <ReferenceLine
      key={m.label}
      x={m.threshold}
      stroke={m.color}
      strokeWidth={2}
      strokeDasharray={m.dashed ? '4 3' : undefined}
      ifOverflow="extendDomain"
    />
  ));
}

export const COLORS = {
  precision: '#3451b2',
  recall: '#c2410c',
  f1: '#15803d',
  relevant: '#16a34a',
  irrelevant: '#dc2626',
};

/** Precision against recall, strict to loose; the marks as dots on the curve. */
export function PrChart({ curve, marks }: { curve: PrPoint[]; marks: Mark[] }) {
  const data = curve.filter((p) => p.precision != null && p.recall != null);
  return (
    <div className="chart" role="img" aria-label="Precision-recall curve">
      <ResponsiveContainer
        width="100%"
        height="100%"
        initialDimension={{ width: 400, height: 220 }}
      >
        <LineChart data={data} margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis
            dataKey="recall"
            type="number"
            domain={[0, 1]}
            tickFormatter={pct}
            label={{ value: 'recall', position: 'insideBottom', offset: -8, fontSize: 11 }}
            fontSize={11}
          />
          <YAxis
            dataKey="precision"
            type="number"
            domain={[0, 1]}
            tickFormatter={pct}
            fontSize={11}
            width={40}
          />
          <Tooltip formatter={fmt} labelFormatter={(v) => `recall ${fmt(v)}`} />
          <Line
            dataKey="precision"
            stroke={COLORS.precision}
            dot={false}
            strokeWidth={2}
            isAnimationActive={false}
          />
          {marks.map((m) =>
            m.point?.precision != null && m.point.recall != null ? (
              <ReferenceDot
                key={m.label}
                x={m.point.recall}
                y={m.point.precision}
                r={5}
                fill={m.color}
                stroke="#fff"
                strokeWidth={1.5}
                ifOverflow="extendDomain"
              />
            ) : null,
          )}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Precision, recall and F1 against the threshold; the marks as vertical lines. */
export function F1Chart({ curve, marks }: { curve: PrPoint[]; marks: Mark[] }) {
  const data = [...curve].sort((a, b) => a.threshold - b.threshold);
  return (
    <>
      <ChartLegend items={F1_SERIES.map(([key, name]) => [name, COLORS[key]])} />
      <div className="chart" role="img" aria-label="Precision, recall and F1 against the threshold">
        <ResponsiveContainer
          width="100%"
          height="100%"
          initialDimension={{ width: 400, height: 220 }}
        >
          <LineChart data={data} margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
            <CartesianGrid stroke="#eef0f3" />
            <XAxis
              dataKey="threshold"
              type="number"
              domain={['dataMin', 'dataMax']}
              tickFormatter={(v: number) => v.toFixed(2)}
              label={{ value: 'threshold', position: 'insideBottom', offset: -8, fontSize: 11 }}
              fontSize={11}
            />
            <YAxis type="number" domain={[0, 1]} tickFormatter={pct} fontSize={11} width={40} />
            <Tooltip formatter={fmt} labelFormatter={(v) => `threshold ${fmt(v)}`} />
            {F1_SERIES.map(([key, name, width]) => (
              <Line
                key={key}
                dataKey={key}
                name={name}
                stroke={COLORS[key]}
                dot={false}
                strokeWidth={width}
                isAnimationActive={false}
              />
            ))}
            {thresholdLines(marks)}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </>
  );
}

/**
 * Scores (cosine) or distances (euclidean) of relevant and irrelevant pairs, each as a share of
 * its own class: relevant pairs are far fewer, and raw counts would flatten them.
 */
export function HistogramChart({
  histogram,
  marks,
}: {
  histogram: CatalogEvaluation['histogram'];
  marks: Mark[];
}) {
  const rel = histogram.relevant.reduce((a, b) => a + b, 0) || 1;
  const irr = histogram.irrelevant.reduce((a, b) => a + b, 0) || 1;
  const data = histogram.relevant.map((r, i) => ({
    x: ((histogram.edges[i] ?? 0) + (histogram.edges[i + 1] ?? 0)) / 2,
    relevant: r / rel,
    irrelevant: (histogram.irrelevant[i] ?? 0) / irr,
  }));
  const lo = histogram.edges[0] ?? 0;
  const hi = histogram.edges.at(-1) ?? 1;
  return (
    <>
      <ChartLegend
        items={[
          ['relevant pairs', COLORS.relevant],
          ['irrelevant pairs', COLORS.irrelevant],
        ]}
      />
      <div className="chart" role="img" aria-label="Histogram of relevant and irrelevant pairs">
        <ResponsiveContainer
          width="100%"
          height="100%"
          initialDimension={{ width: 400, height: 220 }}
        >
          <BarChart
            data={data}
            margin={{ top: 8, right: 12, bottom: 16, left: 0 }}
            barGap={0}
            barCategoryGap={1}
          >
            <CartesianGrid stroke="#eef0f3" vertical={false} />
            <XAxis
              dataKey="x"
              type="number"
              domain={[lo, hi]}
              tickFormatter={(v: number) => v.toFixed(2)}
              fontSize={11}
            />
            <YAxis tickFormatter={pct} fontSize={11} width={40} />
            <Tooltip formatter={pct} labelFormatter={(v) => `≈ ${fmt(v)}`} />
            <Bar
              dataKey="relevant"
              name="relevant pairs"
              fill={COLORS.relevant}
              fillOpacity={0.75}
              isAnimationActive={false}
            />
            <Bar
              dataKey="irrelevant"
              name="irrelevant pairs"
              fill={COLORS.irrelevant}
              fillOpacity={0.6}
              isAnimationActive={false}
            />
            {thresholdLines(marks)}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </>
  );
}

function ChartLegend({ items }: { items: [string, string][] }) {
  return (
    <div className="legend" aria-hidden="true">
      {items.map(([label, color]) => (
        <span key={label}>
          <i style={{ background: color }} />
          {label}
        </span>
      ))}
    </div>
  );
}
