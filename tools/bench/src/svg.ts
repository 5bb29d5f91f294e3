// Small SVG charts for the benchmark report, written by hand so the suite needs no charting
// dependency: a grouped bar chart (categories × series, optionally a reference line such as
// an SLO or a peer's published figure) and a line chart (series of x,y points). Output is
// a self-contained SVG string with a fixed palette; text is XML-escaped.

export interface BarChart {
  title: string;
  /** Label of the y axis, with its unit. */
  yLabel: string;
  categories: string[];
  series: { name: string; values: (number | undefined)[] }[];
  reference?: { value: number; label: string };
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][] }[];
  reference?: { value: number; label: string };
}

const PALETTE = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#718096'];
const W = 760;
const H = 400;
const M = { top: 60, right: 20, bottom: 100, left: 70 };
const MAX_LABEL = 30;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, at most 6 intervals. */
export function niceTicks(max: number): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => max / s <= 6) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

const label = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(Number(v.toPrecision(4))));

function frame(title: string, yLabel: string, ticks: number[], y: (v: number) => number, body: string[], legend: string[], xLabel?: string): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of ticks) {
    const yy = y(t).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeXml(label(t))}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#4a5568"/>`);
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#4a5568"/>`);
  out.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  if (xLabel) out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 36}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(...body, ...legend, '</svg>');
  return out.join('\n') + '\n';
}

/** Shortens a label to MAX_LABEL characters (the full text stays in each bar's tooltip). */
export function shorten(text: string): string {
  return text.length <= MAX_LABEL ? text : `${text.slice(0, MAX_LABEL - 1)}…`;
}

// The legend sits under the title, clear of the category labels.
function legendOf(names: string[]): string[] {
  let x = M.left;
  return names.flatMap((name, i) => {
    const at = x;
    // About 7 px per character at font-size 12, then a gap.
    x += 17 + name.length * 7 + 24;
    const yy = 42;
    return [`<rect x="${at}" y="${yy - 9}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`, `<text x="${at + 17}" y="${yy + 1}">${escapeXml(name)}</text>`];
  });
}

function referenceLine(ref: { value: number; label: string } | undefined, y: (v: number) => number): string[] {
  if (!ref) return [];
  const yy = y(ref.value).toFixed(1);
  return [
    `<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="#c53030" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    // Under the line when the line is at the top of the plot, so the label stays clear of the legend.
    `<text x="${W - M.right - 4}" y="${Number(yy) - 5 < M.top + 4 ? Number(yy) + 14 : Number(yy) - 5}" text-anchor="end" fill="#c53030">${escapeXml(ref.label)}</text>`,
  ];
}

export function barChart(c: BarChart): string {
  const values = c.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const ticks = niceTicks(Math.max(0, ...values, c.reference?.value ?? 0));
  const top = ticks[ticks.length - 1]!;
  const plotH = H - M.top - M.bottom;
  const y = (v: number) => M.top + plotH * (1 - v / top);
  const groupW = (W - M.left - M.right) / Math.max(1, c.categories.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, c.series.length));
  const body: string[] = [];
  c.categories.forEach((cat, i) => {
    const gx = M.left + i * groupW + groupW * 0.1;
    c.series.forEach((s, j) => {
      const v = s.values[i];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = gx + j * barW;
      body.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"><title>${escapeXml(`${s.name}, ${cat}: ${label(v)}`)}</title></rect>`);
    });
    const cx = M.left + (i + 0.5) * groupW;
    const ly = H - M.bottom + 14;
    // Long or many labels are turned, so they do not run into each other.
    const text = shorten(cat);
    const turn = c.categories.length > 6 || text.length * 6.5 > groupW;
    body.push(
      turn
        ? `<text transform="translate(${cx.toFixed(1)} ${ly}) rotate(-25)" text-anchor="end" font-size="11">${escapeXml(text)}</text>`
        : `<text x="${cx.toFixed(1)}" y="${ly}" text-anchor="middle" font-size="11">${escapeXml(text)}</text>`,
    );
  });
  body.push(...referenceLine(c.reference, y));
  return frame(c.title, c.yLabel, ticks, y, body, legendOf(c.series.map((s) => s.name)));
}

export function lineChart(c: LineChart): string {
  const pts = c.series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(0, ...pts.map((p) => p[0])));
  const yTicks = niceTicks(Math.max(0, ...pts.map((p) => p[1]), c.reference?.value ?? 0));
  const xTop = xTicks[xTicks.length - 1]!;
  const yTop = yTicks[yTicks.length - 1]!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number) => M.left + plotW * (v / xTop);
  const y = (v: number) => M.top + plotH * (1 - v / yTop);
  const body: string[] = [];
  for (const t of xTicks) body.push(`<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  c.series.forEach((s, j) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    body.push(`<path d="${d}" fill="none" stroke="${PALETTE[j % PALETTE.length]}" stroke-width="2"/>`);
  });
  body.push(...referenceLine(c.reference, y));
  return frame(c.title, c.yLabel, yTicks, y, body, legendOf(c.series.map((s) => s.name)), c.xLabel);
}
