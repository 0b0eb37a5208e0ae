// A learner's progress: the overall score of each scored session over time, as an inline
// SVG drawn here (no chart library). What it shows is said in a sentence too, and the
// numbers are in a table, for screen readers and for anyone who prefers them.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 600, H = 200, PAD = 30;

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

const day = (at) => at.toLocaleDateString(undefined, { day: "numeric", month: "short" });

/** In words: where the learner started, where they are, and their best. */
function summary(points) {
  const first = Math.round(points[0].score), last = Math.round(points.at(-1).score);
  const best = Math.round(Math.max(...points.map((p) => p.score)));
  const trend = last > first ? "up" : last < first ? "down" : "level";
  return `Overall score over ${points.length} scored sessions: from ${first} to ${last} ` +
    `(${trend}); best ${best}.`;
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
  const y = (score) => H - PAD - (score / 100) * (H - 2 * PAD);
  const text = summary(points);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": text, "data-testid": "progress-svg" });
  for (const level of [0, 50, 100]) {
    chart.append(svg("line", { x1: PAD, x2: W - PAD, y1: y(level), y2: y(level), class: "grid" }),
      svg("text", { x: 2, y: y(level) + 4, class: "axis" }, String(level)));
  }
  chart.append(svg("text", { x: PAD, y: H - 8, class: "axis" }, day(points[0].at)),
    svg("text", { x: W - PAD, y: H - 8, class: "axis end" }, day(points.at(-1).at)),
    svg("polyline", { points: points.map((p) => `${x(p)},${y(p.score)}`).join(" "), class: "line" }));
  for (const p of points) {
    const dot = svg("circle", { cx: x(p), cy: y(p.score), r: 4, class: "dot" });
    dot.append(svg("title", {}, `${p.at.toLocaleString()}: ${Math.round(p.score)}`));
    chart.append(dot);
  }
  const table = h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Overall"))),
    h("tbody", {}, ...points.map((p) =>
      h("tr", {}, h("td", {}, p.at.toLocaleString()), h("td", {}, String(Math.round(p.score)))))));
  return h("figure", { "data-testid": "progress-chart" }, chart,
    h("figcaption", { "data-testid": "progress-summary" }, text),
    h("details", {}, h("summary", {}, "The numbers"), table));
}
