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

/** @param {{id: string, title: string}[]} courses @param {(t: string) => void} say */
export async function jobsSection(courses, say) {
  const { items } = await api("GET", "/v1/rescore-jobs?limit=10");
  const list = h("ul", { class: "plain", "data-testid": "job-list" }, ...items.map((j) => jobRow(j, say)));
  const course = h("select", { "aria-label": "Course to rescore", "data-testid": "job-course" },
    ...courses.map((c) => h("option", { value: c.id }, c.title)));
  const current = h("input", { type: "checkbox", checked: true, "data-testid": "job-current" });
  // The API does not say whether an LLM is configured: asking for one where none is gets
  // its refusal, said in the notice.
  const llm = h("input", { type: "checkbox", "data-testid": "job-llm" });
  const start = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const job = await api("POST", "/v1/rescore-jobs",
        { scope: { course_id: course.value }, options: { make_current: current.checked, llm: llm.checked } });
      list.prepend(jobRow(job, say));
    } catch (error) {
      say(error.message);
    }
  } }, h("label", { class: "field" }, "Course", course),
  h("label", { class: "check" }, current, "Make the new scores the sessions' current ones"),
  h("label", { class: "check" }, llm, "Write new feedback with the language model too"),
  h("button", { type: "submit", "data-testid": "job-start", disabled: !courses.length },
    "Rescore the course's sessions"));
  return h("section", {}, h("h2", {}, "Rescoring"),
    h("p", {}, "Scores every completed session of the course again with this server's evaluator."),
    start, list);
}
