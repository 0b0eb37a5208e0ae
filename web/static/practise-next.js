// "Practise next": the words and sounds a learner misses most, with how often and how
// recently, the exercises that hold them, and (for the learner) a drill made of them.
// The learner reads GET /v1/recommendations, their tutor the same figures for their courses.

import { api } from "./api.js";
import { go } from "./router.js";
import { h, when } from "./dom.js";

const TREND = { improving: "improving", steady: "no change", worsening: "getting worse" };

function spotRow(spot, testid) {
  const label = spot.ipa ? `/${spot.ipa}/ (${spot.text})` : spot.text;
  const how = Object.entries(spot.error_types).map(([kind, n]) => `${kind} ${n}`).join(", ");
  const seen = spot.examples.length ? ` · in "${spot.examples[0]}"` : "";
  return h("li", { "data-testid": testid },
    h("strong", {}, label),
    ` · missed ${spot.missed} of ${spot.attempts}`,
    how ? ` (${how})` : "",
    spot.trend ? ` · ${TREND[spot.trend]}` : "",
    ` · last ${when(spot.last_missed_at)}`, seen);
}

/**
 * @param {string|null} learnerId a learner of the tutor's courses, or null: the caller's own
 * @param {(t: string) => void} say
 */
export async function practiseNext(learnerId, say) {
  const r = learnerId
    ? await api("GET", `/v1/tutor/learners/${learnerId}/recommendations`)
    : await api("GET", "/v1/recommendations");
  if (!r.words.length && !r.sounds.length) {
    return h("section", { class: "card", "data-testid": "practise-next" },
      h("h2", {}, "Practise next"),
      h("p", {}, `Nothing missed twice in the last ${r.sessions_read} scored sessions.`));
  }
  const exercises = r.exercises.map((m) => h("li", { "data-testid": "practise-exercise" },
    h("a", { href: `/exercises/${m.exercise.id}` }, m.exercise.title), ` · ${m.words.join(", ")}`));
  let drill = null;
  if (!learnerId && r.drill) {
    drill = h("button", { type: "button", class: "primary", "data-testid": "make-drill",
      onclick: () => api("POST", "/v1/recommendations/drills", { course_id: r.drill.course_id })
        .then((made) => go(`/exercises/${made.id}`))
        .catch((error) => say(error.message)) },
    `Practise a drill of ${r.drill.words.join(", ")}`);
  }
  return h("section", { class: "card", "data-testid": "practise-next" },
    h("h2", {}, "Practise next"),
    r.words.length ? h("h3", {}, "Words") : null,
    h("ul", {}, ...r.words.map((w) => spotRow(w, "weak-word"))),
    r.sounds.length ? h("h3", {}, "Sounds") : null,
    h("ul", {}, ...r.sounds.map((s) => spotRow(s, "weak-sound"))),
    exercises.length ? h("h3", {}, "Exercises with these words") : null,
    h("ul", {}, ...exercises),
    drill);
}
