// A course's usage for its tutors (GET /v1/courses/<id>/statistics): the whole range's
// figures, one row per day or week, one per learner, and the same as a CSV download.

import { blobUrl, api } from "./api.js";
import { h } from "./dom.js";

const round = (x) => (x === null || x === undefined ? "–" : Math.round(x));

function cells(tag, values) {
  return h("tr", {}, ...values.map((v) => h(tag, {}, String(v))));
}

function table(label, head, rows) {
  return h("table", { class: "figures", "aria-label": label },
    h("thead", {}, cells("th", head)), h("tbody", {}, ...rows.map((r) => cells("td", r))));
}

function summaryLine(s) {
  const due = s.due.due ? ` · due work done on time ${s.due.completed} of ${s.due.due}` : "";
  const plural = s.sessions === 1 ? "session" : "sessions";
  return `${s.sessions} ${plural} (${s.completed} completed) · ${s.minutes.toFixed(1)} minutes`
    + ` · average overall ${round(s.average.overall)}${due}`;
}

async function figures(course, period, say) {
  const stats = await api("GET", `/v1/courses/${course.id}/statistics?period=${period}`);
  const download = h("button", { type: "button", "data-testid": "course-stats-csv",
    onclick: async () => {
      try {
        const file = await blobUrl(`/v1/courses/${course.id}/statistics.csv?period=${period}`,
          "The statistics could not be downloaded.");
        const link = h("a", { href: file, download: `${course.title}-${period}.csv` });
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      } catch (error) {
        say(error.message);
      }
    } }, "Download CSV");
  const buckets = stats.buckets.filter((b) => b.sessions > 0);
  return h("div", {},
    h("p", { "data-testid": "course-stats-summary" }, summaryLine(stats.summary)),
    buckets.length
      ? table(`Sessions per ${period}`, [period === "day" ? "Day" : "Week of", "Sessions",
        "Learners", "Minutes", "Overall"], buckets.map((b) => [b.start, b.sessions, b.learners,
        b.minutes.toFixed(1), round(b.average.overall)]))
      : h("p", {}, "No sessions in this range."),
    table("Learners", ["Learner", "Sessions", "Minutes", "Overall", "Trend (points a day)"],
      stats.learners.map((l) => [l.learner.display_name, l.summary.sessions,
        l.summary.minutes.toFixed(1), round(l.summary.average.overall),
        l.summary.trend.overall === null ? "–" : l.summary.trend.overall.toFixed(2)])),
    download);
}

/** A <details> with the course's statistics, loaded when opened. */
export function courseStatistics(course, say) {
  const inside = h("div", { "data-testid": "course-stats" });
  const period = h("select", { "aria-label": "Period", "data-testid": "course-stats-period" },
    h("option", { value: "day" }, "Last 30 days"), h("option", { value: "week" }, "Last 12 weeks"));
  const load = () => figures(course, period.value, say)
    .then((shown) => inside.replaceChildren(shown)).catch((error) => say(error.message));
  period.addEventListener("change", load);
  return h("details", { ontoggle: (event) => {
    if (event.target.open && !inside.children.length) load();
  } }, h("summary", {}, "Statistics"), period, inside);
}
