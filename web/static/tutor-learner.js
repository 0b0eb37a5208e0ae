// A tutor's view of one learner: their progress in the tutor's courses (the chart of their
// sessions and each exercise's attempts and scores), and their sessions, each linking to
// its page.

import { api } from "./api.js";
import { h, when } from "./dom.js";
import { sessionList } from "./history.js";
import { practiseNext } from "./practise-next.js";

const round = (n) => (n === null ? "–" : String(Math.round(n)));

function exerciseTable(exercises) {
  if (!exercises.length) return null;
  return h("div", { class: "scroll" }, h("table", { "data-testid": "learner-exercises" },
    h("caption", {}, "By exercise"),
    h("thead", {}, h("tr", {}, ...["Exercise", "Attempts", "Best", "Latest", "Average", "Last"]
      .map((t) => h("th", {}, t)))),
    h("tbody", {}, ...exercises.map((e) => h("tr", {},
      h("td", {}, e.exercise.title), h("td", {}, String(e.attempts)),
      h("td", {}, round(e.best_overall)), h("td", {}, round(e.latest_overall)),
      h("td", {}, round(e.average_overall)), h("td", {}, when(e.last_attempt_at)))))));
}

/** @param {{show: (...c: Node[]) => void, say: (t: string) => void}} page @param {string} learnerId */
export async function learnerPage(page, learnerId) {
  const progress = await api("GET", `/v1/tutor/learners/${learnerId}/progress`);
  const { nodes } = await sessionList(learnerId, "tutor-session-row", page.say);
  const next = await practiseNext(learnerId, page.say);
  page.show(h("h1", {}, progress.learner.display_name),
    h("p", {}, h("a", { href: "/tutor" }, "← All learners")),
    h("h2", {}, "Progress"), nodes[0], exerciseTable(progress.exercises), next,
    h("h2", {}, "Sessions"), ...nodes.slice(1));
}
