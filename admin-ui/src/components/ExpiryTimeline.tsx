import { useState } from "react";
import type { ExpiryKind, TimelineDay } from "../api";

export const KIND_LABELS: Record<ExpiryKind, [string, string]> = {
  client_secret: ["client secret", "client secrets"],
  certificate: ["certificate", "certificates"],
  mailbox: ["mailbox", "mailboxes"],
};
const KINDS = Object.keys(KIND_LABELS) as ExpiryKind[];

/** The horizon of the broker's timeline, in days after the scan's day. */
export const HORIZON_DAYS = 90;

const DAY = 24 * 3600 * 1000;
const BAR = 10;
const LEFT = 44;
const TOP = 12;
const HEIGHT = 140;
const WIDTH = LEFT + (HORIZON_DAYS + 1) * BAR + 8;

function counted(n: number, kind: ExpiryKind): string {
  return `${n} ${KIND_LABELS[kind][n === 1 ? 0 : 1]}`;
}

/** "2027-01-12" plus `days`, as the same kind of UTC date string. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

function shortDate(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

/**
 * What expires on each of the next 90 days, stacked by kind, from the broker's `timeline` (counted
 * over the whole last scan, so nothing is read item by item). Each kind can be hidden: mailboxes
 * are renewed by keep-alive and can dwarf the credentials a security team rotates by hand. The
 * same numbers are in a table for screen readers and for reading exact values.
 */
export function ExpiryTimeline({ timeline, from }: { timeline: TimelineDay[]; from: string }) {
  const [shown, setShown] = useState<Record<ExpiryKind, boolean>>({ client_secret: true, certificate: true, mailbox: true });
  const byDate = new Map(timeline.map((d) => [d.date, d.counts]));
  const days = Array.from({ length: HORIZON_DAYS + 1 }, (_, i) => addDays(from, i));
  const total = (counts: TimelineDay["counts"] | undefined) => KINDS.reduce((sum, k) => sum + (shown[k] ? counts?.[k] ?? 0 : 0), 0);
  const max = Math.max(1, ...days.map((d) => total(byDate.get(d))));
  const totals = KINDS.map((k) => [k, timeline.reduce((sum, d) => sum + (d.counts[k] ?? 0), 0)] as const);
  const summary = totals.some(([, n]) => n > 0)
    ? `In the next ${HORIZON_DAYS} days: ${totals.map(([k, n]) => counted(n, k)).join(", ")} expire.`
    : `Nothing expires in the next ${HORIZON_DAYS} days.`;
  const scale = (n: number) => (n / max) * HEIGHT;

  return (
    <figure className="timeline">
      <figcaption>{summary}</figcaption>
      <fieldset className="legend">
        <legend className="sr-only">Kinds shown in the chart</legend>
        {KINDS.map((k) => (
          <label key={k} className={`legend-item kind-${k}`}>
            <input type="checkbox" checked={shown[k]} onChange={(e) => setShown({ ...shown, [k]: e.target.checked })} />
            <span className="swatch" aria-hidden="true" /> {KIND_LABELS[k][1]}
          </label>
        ))}
      </fieldset>
      <svg viewBox={`0 0 ${WIDTH} ${TOP + HEIGHT + 24}`} role="img" aria-label={`Expiry timeline. ${summary}`}>
        <text x={LEFT - 6} y={TOP + 4} textAnchor="end" className="axis">
          {max}
        </text>
        <text x={LEFT - 6} y={TOP + HEIGHT} textAnchor="end" className="axis">
          0
        </text>
        <line x1={LEFT} x2={WIDTH - 8} y1={TOP + HEIGHT} y2={TOP + HEIGHT} className="baseline" />
        {[30, 60, 90].map((n) => (
          <g key={n}>
            <line x1={LEFT + n * BAR} x2={LEFT + n * BAR} y1={TOP} y2={TOP + HEIGHT} className="gridline" />
            <text x={LEFT + n * BAR} y={TOP + HEIGHT + 18} textAnchor={n === HORIZON_DAYS ? "end" : "middle"} className="axis">
              {n} days · {shortDate(days[n])}
            </text>
          </g>
        ))}
        <text x={LEFT} y={TOP + HEIGHT + 18} className="axis">
          {shortDate(days[0])}
        </text>
        {days.map((date, i) => {
          const counts = byDate.get(date);
          if (!counts) return null;
          let y = TOP + HEIGHT;
          const parts = KINDS.filter((k) => shown[k] && counts[k]).map((k) => {
            const h = Math.max(1, scale(counts[k]!));
            y -= h;
            return <rect key={k} className={`kind-${k}`} x={LEFT + i * BAR + 1} y={y} width={BAR - 2} height={h} />;
          });
          if (parts.length === 0) return null;
          return (
            <g key={date}>
              <title>
                {shortDate(date)}: {KINDS.filter((k) => counts[k]).map((k) => counted(counts[k]!, k)).join(", ")}
              </title>
              {parts}
            </g>
          );
        })}
      </svg>
      {timeline.length > 0 && (
        <details>
          <summary>The days as a table</summary>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  {KINDS.map((k) => (
                    <th key={k} scope="col">
                      {KIND_LABELS[k][1]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {timeline.map((d) => (
                  <tr key={d.date}>
                    <td>{d.date}</td>
                    {KINDS.map((k) => (
                      <td key={k}>{d.counts[k] ?? 0}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </figure>
  );
}
