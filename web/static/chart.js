// A learner's progress: the overall score of each scored session over time, as an inline
// SVG (no chart library), with the same numbers as a table for screen readers.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 600, H = 180, PAD = 28;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/** @param {{started_at: string, scores: {overall: number|null}|null}[]} sessions newest first */
export function progressChart(sessions) {
  const points = sessions
    .filter((s) => s.scores && s.scores.overall !== null)
    .map((s) => ({ at: new Date(s.started_at), score: s.scores.overall }))
    .reverse();
  if (points.length < 2) {
    return h("p", { "data-testid": "progress-chart" },
      "The progress chart appears after two scored sessions.");
  }
  const first = points[0].at.getTime(), span = points.at(-1).at.getTime() - first || 1;
  const x = (p) => PAD + ((p.at.getTime() - first) / span) * (W - 2 * PAD);
  const y = (p) => H - PAD - (p.score / 100) * (H - 2 * PAD);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `Overall score over ${points.length} sessions` });
  for (const level of [0, 50, 100]) {
    const ly = H - PAD - (level / 100) * (H - 2 * PAD);
    chart.append(svg("line", { x1: PAD, x2: W - PAD, y1: ly, y2: ly, class: "grid" }));
    const label = svg("text", { x: 2, y: ly + 4, class: "axis" });
    label.textContent = String(level);
    chart.append(label);
  }
  chart.append(svg("polyline", { points: points.map((p) => `${x(p)},${y(p)}`).join(" "),
    class: "line" }));
  for (const p of points) chart.append(svg("circle", { cx: x(p), cy: y(p), r: 4, class: "dot" }));
  const table = h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Overall"))),
    h("tbody", {}, ...points.map((p) =>
      h("tr", {}, h("td", {}, p.at.toLocaleString()), h("td", {}, String(Math.round(p.score)))))));
  return h("figure", { "data-testid": "progress-chart" }, chart,
    h("details", {}, h("summary", {}, "The numbers"), table));
}
