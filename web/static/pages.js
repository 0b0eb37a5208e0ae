// History, one stored session, and a tutor's view of one learner.

import { api, recordingUrl } from "./api.js";
import { progressChart } from "./chart.js";
import { feedbackBlock, h, scoresBlock, when, wordsBlock } from "./dom.js";

function sessionRows(items, testid) {
  return h("ul", { class: "plain" }, ...items.map((s) =>
    h("li", { class: "card", "data-testid": testid },
      h("a", { href: `/sessions/${s.id}` }, s.exercise.title), " · ", when(s.started_at), " · ",
      s.status, s.scores ? ` · overall ${Math.round(s.scores.overall ?? 0)}` : "")));
}

/** @param {{show: (...c: Node[]) => void}} page */
export async function historyPage(page) {
  const { items } = await api("GET", "/v1/sessions?limit=100");
  page.show(h("h1", {}, "History"), progressChart(items),
    items.length ? sessionRows(items, "history-row") : h("p", {}, "No practice yet."));
}

/** @param {{show: (...c: Node[]) => void}} page @param {string} learnerId */
export async function learnerPage(page, learnerId) {
  const { items } = await api("GET", `/v1/sessions?learner_id=${learnerId}&limit=100`);
  const name = items.length ? items[0].learner.display_name : "This learner";
  page.show(h("h1", {}, name), h("p", {}, h("a", { href: "/tutor" }, "← All learners")),
    progressChart(items),
    items.length ? sessionRows(items, "tutor-session-row") : h("p", {}, "No sessions yet."));
}

function versions(evaluations) {
  return h("details", { "data-testid": "evaluation-versions" },
    h("summary", {}, `Evaluations (${evaluations.length})`),
    h("ul", {}, ...evaluations.map((e) =>
      h("li", {}, `v${e.version} · ${e.evaluator_name} ${e.evaluator_version} · `,
        `overall ${e.overall === null ? "–" : Math.round(e.overall)}`,
        e.is_current ? " · current" : "", ` · ${when(e.created_at)}`))));
}

function tutorNotes(session, staff, reload, say) {
  const notes = session.feedback.map((f) =>
    h("li", { class: "card", "data-testid": "tutor-note" },
      h("strong", {}, `${"★".repeat(f.rating)}${"☆".repeat(5 - f.rating)}`),
      ` ${f.tutor.display_name}: `, f.comment));
  const out = h("section", {}, h("h2", {}, "Tutor notes"),
    notes.length ? h("ul", { class: "plain" }, ...notes) : h("p", {}, "No notes yet."));
  if (!staff) return out;
  const rating = h("select", { "aria-label": "Rating", "data-testid": "note-rating" },
    ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, `${n} of 5`)));
  const comment = h("textarea", { "aria-label": "Comment", maxlength: "2000",
    "data-testid": "note-comment" });
  out.append(h("form", { onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/v1/sessions/${session.id}/feedback`,
        { rating: Number(rating.value), comment: comment.value });
      await reload();
    } catch (error) {
      say(error.message);
    }
  } }, h("label", {}, "Rating", rating), h("label", {}, "Comment", comment),
  h("button", { type: "submit", class: "primary", "data-testid": "note-save" }, "Save note")));
  return out;
}

/** @param {{show: (...c: Node[]) => void, say: (t: string) => void, role: string}} page */
export async function sessionPage(page, sessionId) {
  const session = await api("GET", `/v1/sessions/${sessionId}`);
  const staff = page.role === "tutor" || page.role === "admin";
  const evaluation = session.evaluation;
  const details = evaluation ? evaluation.details : {};
  const audio = h("p", {}, "Loading the recording…");
  page.show(
    h("h1", {}, session.exercise.title),
    h("p", {}, `${session.learner.display_name} · ${when(session.started_at)} · ${session.status}`,
      session.failure_reason ? ` (${session.failure_reason})` : ""),
    audio,
    evaluation ? scoresBlock(evaluation) : h("p", {}, "This session has no score."),
    details.words ? wordsBlock(details.words) : null,
    session.transcript
      ? h("p", { class: "transcript", "data-testid": "session-transcript" }, session.transcript.text)
      : null,
    details.feedback ? feedbackBlock(details.feedback) : null,
    staff ? versions(session.evaluations) : null,
    tutorNotes(session, staff, () => sessionPage(page, sessionId), page.say),
  );
  if (!session.playback_url) {
    audio.textContent = "No recording was kept.";
    return;
  }
  try {
    // Through the API even where the store has a URL of its own: the page's CSP plays
    // media from this origin and blob: only.
    const url = await recordingUrl(session.id);
    audio.replaceChildren(h("audio", { controls: "", src: url, "data-testid": "playback" }));
  } catch (error) {
    audio.textContent = error.message;
  }
}
