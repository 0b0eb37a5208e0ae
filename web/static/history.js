// A learner's history: the progress chart over their sessions, and the sessions, newest
// first, each linking to its own page. Later pages load with "Show older sessions".

import { api } from "./api.js";
import { progressChart } from "./chart.js";
import { h, when } from "./dom.js";
import { practiseNext } from "./practise-next.js";

const PAGE = 100;

/** One row per session; `testid` tells the learner's rows from the tutor's. */
export function sessionRow(s, testid) {
  return h("li", { class: "card", "data-testid": testid },
    h("a", { href: `/sessions/${s.id}` }, s.exercise.title), " · ", when(s.started_at), " · ",
    s.status, s.scores && s.scores.overall !== null ? ` · overall ${Math.round(s.scores.overall)}` : "");
}

/**
 * Sessions a page at a time, with the chart of those loaded so far.
 * @param {string|null} learnerId one learner's (as their tutor), or null: the caller's own
 * @param {string} testid
 * @param {(t: string) => void} say
 */
export async function sessionList(learnerId, testid, say) {
  const loaded = [];
  const chart = h("div");
  const list = h("ul", { class: "plain" });
  const more = h("button", { type: "button", "data-testid": "sessions-more", hidden: "" },
    "Show older sessions");
  let cursor = null;
  async function next() {
    const whose = learnerId ? `&learner_id=${learnerId}` : "";
    const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await api("GET", `/v1/sessions?limit=${PAGE}${whose}${after}`);
    loaded.push(...page.items);
    list.append(...page.items.map((s) => sessionRow(s, testid)));
    chart.replaceChildren(progressChart(loaded));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
  }
  more.addEventListener("click", () => next().catch((error) => say(error.message)));
  await next();
  const empty = loaded.length ? null : h("p", {}, "No sessions yet.");
  return { loaded, nodes: [chart, empty, list, more] };
}

/** @param {{show: (...c: Node[]) => void, say: (t: string) => void}} page */
export async function historyPage(page) {
  const { nodes } = await sessionList(null, "history-row", page.say);
  // Recommendations are a learner's own; staff read them per learner on the tutor's desk.
  const next = page.me.role === "learner" ? await practiseNext(null, page.say) : null;
  page.show(h("h1", {}, "History"), next, ...nodes);
}
