// A small SVG writer for the benchmark summary: panels of grouped bars (one group per scenario, one bar per
// system), each panel on its own linear or logarithmic scale, values printed on the bars. No dependencies.

export interface BarPanel {
  readonly title: string;
  readonly unit: string;
  readonly log?: boolean;
  /** Group label → system → value (undefined: not measured). */
  readonly groups: readonly { readonly label: string; readonly values: readonly (number | undefined)[] }[];
}

const COLORS = ['#1f6fb2', '#e07b39', '#4a9c5d', '#8e63b5'];
const WIDTH = 960;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 70, right: 20, top: 34, bottom: 46 };

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const format = (v: number): string => (v >= 1_000_000 ? `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)}M` : v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1_000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(2));

function panel(p: BarPanel, systems: readonly string[], y0: number): string[] {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = p.groups.flatMap((g) => g.values).filter((v): v is number => v !== undefined && v > 0);
  const max = Math.max(1, ...values);
  // log scale: a decade below the smallest value, so that the smallest bar still has a visible height
  const min = p.log === true ? Math.max(1e-3, 10 ** (Math.floor(Math.log10(Math.min(...values, max))) - 1)) : 0;
  const top = p.log === true ? 10 ** Math.ceil(Math.log10(max)) : max * 1.15;
  const scale = (v: number): number => (p.log === true ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(top) - Math.log10(min)) : v / top) * plotH;
  const out: string[] = [`<text x="${MARGIN.left}" y="${y0 + 20}" font-size="15" font-weight="bold">${escape(p.title)} (${escape(p.unit)}${p.log === true ? ', log scale' : ''})</text>`];
  const baseY = y0 + MARGIN.top + plotH;
  out.push(`<line x1="${MARGIN.left}" y1="${baseY}" x2="${WIDTH - MARGIN.right}" y2="${baseY}" stroke="#444"/>`);
  const ticks = p.log === true
    ? Array.from({ length: Math.round(Math.log10(top / min)) + 1 }, (_, i) => min * 10 ** i)
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  for (const t of ticks) {
    const y = baseY - scale(t);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${WIDTH - MARGIN.right}" y2="${y}" stroke="#ddd"/>`, `<text x="${MARGIN.left - 6}" y="${y + 4}" font-size="11" text-anchor="end">${format(t)}</text>`);
  }
  const groupW = plotW / Math.max(1, p.groups.length);
  const barW = Math.min(46, (groupW * 0.8) / Math.max(1, systems.length));
  p.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupW + (groupW - barW * systems.length) / 2;
    g.values.forEach((v, si) => {
      const x = gx + si * barW;
      if (v === undefined) {
        out.push(`<text x="${x + barW / 2}" y="${baseY - 4}" font-size="10" text-anchor="middle" fill="#888">n/a</text>`);
        return;
      }
      const h = Math.max(1, scale(v));
      out.push(
        `<rect x="${x + 2}" y="${baseY - h}" width="${barW - 4}" height="${h}" fill="${COLORS[si % COLORS.length] ?? '#000'}"/>`,
        `<text x="${x + barW / 2}" y="${baseY - h - 3}" font-size="10" text-anchor="middle">${format(v)}</text>`,
      );
    });
    out.push(`<text x="${MARGIN.left + gi * groupW + groupW / 2}" y="${baseY + 16}" font-size="12" text-anchor="middle">${escape(g.label)}</text>`);
  });
  return out;
}

/** The whole chart: a legend of the systems, then the panels stacked vertically. */
export function barChartSvg(title: string, systems: readonly string[], panels: readonly BarPanel[]): string {
  const height = 70 + panels.length * PANEL_HEIGHT;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="17" font-weight="bold">${escape(title)}</text>`,
  ];
  systems.forEach((s, i) => {
    const x = MARGIN.left + i * 130;
    out.push(`<rect x="${x}" y="36" width="14" height="14" fill="${COLORS[i % COLORS.length] ?? '#000'}"/>`, `<text x="${x + 20}" y="48" font-size="13">${escape(s)}</text>`);
  });
  panels.forEach((p, i) => out.push(...panel(p, systems, 60 + i * PANEL_HEIGHT)));
  out.push('</svg>', '');
  return out.join('\n');
}
