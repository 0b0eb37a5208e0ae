// Rescoring: start a job over a course's stored sessions, and the latest jobs, each with a
// progress bar. A pending or running job is read again every second until it ends, so its
// bar moves while the workers run (the API also announces each finished task on the
// course's channel of /v1/ws/observe; reading the job itself needs no socket and shows
// the failures too).

import { api } from "./api.js";
import { fill, h, when } from "./dom.js";

const OPEN = ["pending", "running"];

function jobRow(job, say) {
  const progress = h("div", { class: "meter", role: "progressbar", "data-testid": "job-progress",
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "Rescoring progress" });
  const status = h("span", { "data-testid": "job-status" });
  const cancel = h("button", { type: "button", "data-testid": "job-cancel" }, "Cancel");
  const row = h("li", { class: "card", "data-testid": "job-row" },
    h("p", { class: "row" }, h("span", {}, `Started ${when(job.created_at)}`), status, cancel),
    progress);
  function draw(j) {
    const share = j.total ? Math.round((100 * (j.done + j.failed)) / j.total) : 100;
    progress.replaceChildren(fill(share));
    progress.setAttribute("aria-valuenow", String(share));
    const failed = j.failed ? `, ${j.failed} failed` : "";
    status.textContent = `${j.status}: ${j.done} of ${j.total} rescored${failed} (${share}%)`;
    cancel.hidden = !OPEN.includes(j.status);
  }
  async function follow(j) {
    let shown = false;
    draw(j);
    while (OPEN.includes(j.status)) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // Once in the page and then out of it, the user has left the desk: stop reading.
      if (row.isConnected) shown = true;
      else if (shown) return;
      j = await api("GET", `/v1/rescore-jobs/${j.id}`);
      draw(j);
    }
  }
  cancel.addEventListener("click", async () => {
    try {
      draw(await api("POST", `/v1/rescore-jobs/${job.id}/cancel`));
    } catch (error) {
      say(error.message);
    }
  });
  follow(job).catch((error) => say(error.message));
  return row;
}

const KINDS = { trained: "Trained scorer", "hand-tuned": "Hand-tuned formulas" };

/** The server's models and evaluator versions as two selects: the evaluators follow the
 * model (another Whisper model than the scorer's has the hand-tuned formulas only). */
function pickers(offers) {
  const model = h("select", { "aria-label": "Whisper model", "data-testid": "job-model" },
    ...offers.models.map((m) => h("option", { value: m.model, selected: m.default },
      m.default ? `${m.model} (default)` : m.model)));
  const evaluator = h("select", { "aria-label": "Evaluator", "data-testid": "job-evaluator" });
  function list() {
    const chosen = offers.models.find((m) => m.model === model.value) ?? offers.models[0];
    evaluator.replaceChildren(...chosen.evaluators.map((e, i) =>
      h("option", { value: e.version },
        `${KINDS[e.kind] ?? e.kind}${i === 0 ? " (default)" : ""}: ${e.version}`)));
  }
  model.addEventListener("change", list);
  list();
  return { model, evaluator };
}

/** @param {{id: string, title: string}[]} courses @param {(t: string) => void} say */
export async function jobsSection(courses, say) {
  const [{ items }, offers] = await Promise.all([
    api("GET", "/v1/rescore-jobs?limit=10"), api("GET", "/v1/rescore-jobs/options")]);
  const list = h("ul", { class: "plain", "data-testid": "job-list" }, ...items.map((j) => jobRow(j, say)));
  const course = h("select", { "aria-label": "Course to rescore", "data-testid": "job-course" },
    ...courses.map((c) => h("option", { value: c.id }, c.title)));
  const { model, evaluator } = pickers(offers);
  const current = h("input", { type: "checkbox", checked: true, "data-testid": "job-current" });
  const llm = h("input", { type: "checkbox", "data-testid": "job-llm", disabled: !offers.llm });
  const start = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const options = { model: model.value, evaluator: evaluator.value,
        make_current: current.checked, llm: llm.checked };
      const job = await api("POST", "/v1/rescore-jobs", { scope: { course_id: course.value }, options });
      list.prepend(jobRow(job, say));
    } catch (error) {
      say(error.message);
    }
  } }, h("label", { class: "field" }, "Course", course),
  // One model is the usual case: nothing to choose, so no select.
  offers.models.length > 1 ? h("label", { class: "field" }, "Model", model) : null,
  h("label", { class: "field" }, "Scores from", evaluator),
  h("label", { class: "check" }, current, "Make the new scores the sessions' current ones"),
  h("label", { class: "check" }, llm, offers.llm ? "Write new feedback with the language model too"
    : "Write new feedback with a language model (none is configured)"),
  h("button", { type: "submit", "data-testid": "job-start", disabled: !courses.length },
    "Rescore the course's sessions"));
  return h("section", {}, h("h2", {}, "Rescoring"),
    h("p", {}, "Scores every completed session of the course again, with the evaluator chosen."),
    start, list);
}
