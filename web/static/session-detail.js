// One stored session: the recording, scores, the reference coloured by error type, the
// transcript and the feedback; for its tutors and admins also every evaluation version and
// the tutors' notes, with a form for their own (one per tutor: saving again replaces it).

import { api, recordingUrl } from "./api.js";
import { feedbackBlock, h, scoresBlock, when, wordsBlock } from "./dom.js";

const round = (n) => (n === null || n === undefined ? "–" : String(Math.round(n)));

function versions(evaluations) {
  const rows = evaluations.map((e) =>
    h("tr", { "data-testid": "evaluation-version" },
      h("td", {}, `v${e.version}${e.is_current ? " (current)" : ""}`),
      h("td", {}, `${e.evaluator_name} ${e.evaluator_version}${e.model ? ` · ${e.model}` : ""}`),
      ...[e.accuracy, e.fluency, e.completeness, e.overall].map((n) => h("td", {}, round(n))),
      h("td", {}, when(e.created_at))));
  return h("details", { "data-testid": "evaluation-versions" },
    h("summary", {}, `Evaluations (${evaluations.length})`),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["Version", "Evaluator", "Accuracy", "Fluency",
        "Completeness", "Overall", "When"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows))));
}

function tutorNotes(session, me, reload, say) {
  const notes = session.feedback.map((f) =>
    h("li", { class: "card", "data-testid": "tutor-note" },
      h("strong", { "aria-label": `${f.rating} of 5` }, `${"★".repeat(f.rating)}${"☆".repeat(5 - f.rating)}`),
      ` ${f.tutor.display_name}: `, f.comment));
  const out = h("section", {}, h("h2", {}, "Tutor notes"),
    notes.length ? h("ul", { class: "plain" }, ...notes) : h("p", {}, "No notes yet."));
  if (me.role !== "tutor" && me.role !== "admin") return out;
  const mine = session.feedback.find((f) => f.tutor.id === me.id);
  const rating = h("select", { "data-testid": "note-rating" },
    ...[5, 4, 3, 2, 1].map((n) =>
      h("option", { value: String(n), selected: mine ? mine.rating === n : false }, `${n} of 5`)));
  const comment = h("textarea", { maxlength: "2000", "data-testid": "note-comment" },
    mine ? mine.comment : "");
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
  h("button", { type: "submit", class: "primary", "data-testid": "note-save" },
    mine ? "Update my note" : "Save note")));
  return out;
}

/**
 * @param {{show: (...c: Node[]) => void, say: (t: string) => void,
 *          me: {id: string, role: string}}} page
 * @param {string} sessionId
 */
export async function sessionPage(page, sessionId) {
  const session = await api("GET", `/v1/sessions/${sessionId}`);
  const staff = page.me.role === "tutor" || page.me.role === "admin";
  const evaluation = session.evaluation;
  const details = evaluation ? evaluation.details : {};
  const audio = h("p", {}, "Loading the recording…");
  page.show(
    h("h1", {}, session.exercise.title),
    h("p", {}, `${session.learner.display_name} · ${when(session.started_at)} · ${session.status}`,
      session.failure_reason ? ` (${session.failure_reason})` : ""),
    h("h2", {}, "Recording"), audio,
    h("h2", {}, "Scores"),
    evaluation ? scoresBlock(evaluation) : h("p", {}, "This session has no score."),
    details.words ? h("h2", {}, "The text, word by word") : null,
    details.words ? wordsBlock(details.words) : null,
    details.words ? legend() : null,
    h("h2", {}, "What was heard"),
    h("p", { class: "transcript", "data-testid": "session-transcript" },
      session.transcript ? session.transcript.text : "No transcript."),
    details.feedback ? feedbackBlock(details.feedback, details.feedback.rubric_result) : null,
    staff ? versions(session.evaluations) : null,
    tutorNotes(session, page.me, () => sessionPage(page, sessionId), page.say),
  );
  if (!session.playback_url) {
    audio.textContent = "No recording was kept.";
    return;
  }
  try {
    // Through the API even where the store has a URL of its own: the page's CSP plays
    // media from this origin and blob: only.
    const url = await recordingUrl(session.id);
    audio.replaceChildren(h("audio", { controls: "", src: url, "data-testid": "playback",
      "aria-label": "The recording of this session" }));
  } catch (error) {
    audio.textContent = error.message;
  }
}

/** What the colours of the words mean, in words as well. */
function legend() {
  const kinds = [["none", "as expected"], ["mispronunciation", "mispronounced"],
    ["omission", "left out"], ["insertion", "added"], ["unexpected_break", "pause before"],
    ["missing_break", "no pause after"], ["monotone", "flat pitch"]];
  return h("p", { class: "legend" }, ...kinds.map(([kind, text]) =>
    h("span", { class: "word", "data-error-type": kind }, text)));
}
