// A course as its staff manage it: its status, its exercises (create, edit with their
// schedule and rubric, archive and restore) and its members. Admins also enrol learners and attach tutors from the users
// list; the API lets only admins list users, so a tutor's card shows the members alone.

import { api } from "./api.js";
import { h } from "./dom.js";
import { rubricEditor } from "./rubric-editor.js";

/** A datetime-local input's value (the browser's time zone) as ISO 8601 UTC; "" is none. */
const instant = (value) => (value ? new Date(value).toISOString() : null);

/** An ISO timestamp as a datetime-local value in the browser's time zone. */
function local(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function exerciseForm(course, done, say, exercise = null) {
  const prefix = exercise ? "exercise" : "new-exercise";
  const kind = h("select", { "aria-label": "Kind", "data-testid": `${prefix}-kind` },
    h("option", { value: "read_aloud" }, "Read aloud"),
    h("option", { value: "open_response" }, "Open response"));
  if (exercise) kind.value = exercise.kind;
  kind.disabled = exercise !== null;
  const title = h("input", { "aria-label": "Title", required: "", placeholder: "Title",
    value: exercise?.title ?? "", "data-testid": `${prefix}-title` });
  const text = h("textarea", { required: "", "data-testid": `${prefix}-text` },
    (exercise?.kind === "open_response" ? exercise?.prompt : exercise?.reference_text) ?? "");
  const label = () => {
    const what = kind.value === "read_aloud" ? "Text to read aloud" : "Question to answer";
    text.setAttribute("aria-label", what);
    text.setAttribute("placeholder", what);
  };
  kind.addEventListener("change", label);
  label();
  const opens = h("input", { type: "datetime-local", value: local(exercise?.available_from),
    "aria-label": "Opens", "data-testid": `${prefix}-opens` });
  const due = h("input", { type: "datetime-local", value: local(exercise?.due_at),
    "aria-label": "Due", "data-testid": `${prefix}-due` });
  return h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const words = kind.value === "read_aloud" ? { reference_text: text.value } : { prompt: text.value };
    words.available_from = instant(opens.value);
    words.due_at = instant(due.value);
    try {
      if (exercise) await api("PATCH", `/v1/exercises/${exercise.id}`, { title: title.value, ...words });
      else await api("POST", `/v1/courses/${course.id}/exercises`, { kind: kind.value, title: title.value, ...words });
      await done();
    } catch (error) {
      say(error.message);
    }
  } }, kind, title, text,
  h("label", { class: "field" }, "Opens", opens), h("label", { class: "field" }, "Due", due),
  h("button", { type: "submit", "data-testid": exercise ? "exercise-save" : "exercise-create" },
    exercise ? "Save" : "Add exercise"));
}

function exerciseItem(course, e, done, say) {
  const act = (work) => async () => {
    try {
      await work();
      await done();
    } catch (error) {
      say(error.message);
    }
  };
  const toggle = e.archived
    ? h("button", { type: "button", "data-testid": "exercise-restore",
      onclick: act(() => api("PATCH", `/v1/exercises/${e.id}`, { archived: false })) }, "Restore")
    : h("button", { type: "button", "data-testid": "exercise-archive",
      onclick: act(() => api("POST", `/v1/exercises/${e.id}/archive`)) }, "Archive");
  return h("li", { "data-testid": "admin-exercise" },
    h("details", {}, h("summary", {}, e.title, e.archived ? " (archived)" : ""),
      exerciseForm(course, done, say, e), toggle, rubricEditor(e, say)));
}

function memberPick(course, people, role, done, say) {
  const pick = h("select", { "aria-label": `${role === "learners" ? "Learner" : "Tutor"} to add`,
    "data-testid": role === "learners" ? "enrol-pick" : "tutor-pick" },
    ...people.map((u) => h("option", { value: u.id }, `${u.display_name} (${u.email})`)));
  const add = h("button", { type: "button", "data-testid": role === "learners" ? "enrol-add" : "tutor-add",
    onclick: async () => {
      try {
        if (role === "learners") await api("POST", `/v1/courses/${course.id}/learners`, { user_id: pick.value });
        else await api("POST", `/v1/courses/${course.id}/tutors`, { user_id: pick.value });
        await done();
      } catch (error) {
        say(error.message);
      }
    } }, role === "learners" ? "Enrol learner" : "Add tutor");
  return people.length ? h("p", { class: "row" }, pick, add) : null;
}

/**
 * @param {{id: string, title: string, status: string}} course
 * @param {{say: (t: string) => void, people?: {learners: any[], tutors: any[]}}} options
 *   `people`: users to enrol (admins only)
 */
export async function courseCard(course, { say, people }) {
  const card = h("li", { class: "card", "data-testid": "admin-course" });
  async function draw() {
    const exercises = await api("GET", `/v1/courses/${course.id}/exercises?include_archived=true&limit=200`);
    const members = await api("GET", `/v1/courses/${course.id}/members?limit=200`);
    const status = h("select", { "aria-label": `Status of ${course.title}`, "data-testid": "course-status" },
      ...["draft", "published", "archived"].map((s) => h("option", { value: s, selected: s === course.status }, s)));
    status.addEventListener("change", async () => {
      try {
        // Archiving has its own operation, which the audit trail records.
        if (status.value === "archived") course = await api("POST", `/v1/courses/${course.id}/archive`);
        else course = await api("PATCH", `/v1/courses/${course.id}`, { status: status.value });
        await draw();
      } catch (error) {
        say(error.message);
      }
    });
    const roster = members.map((m) => h("li", { "data-testid": "course-member" },
      `${m.display_name} · ${m.role}${m.email ? ` · ${m.email}` : ""}`));
    card.replaceChildren(
      h("h3", {}, course.title), h("label", { class: "field" }, "Status", status),
      h("h4", {}, "Exercises"),
      h("ul", {}, ...exercises.map((e) => exerciseItem(course, e, draw, say))),
      h("details", {}, h("summary", {}, "Add an exercise"), exerciseForm(course, draw, say)),
      h("h4", {}, `Members (${members.length})`),
      roster.length ? h("ul", {}, ...roster) : h("p", {}, "Nobody yet."),
      people ? memberPick(course, people.learners, "learners", draw, say) : null,
      people ? memberPick(course, people.tutors, "tutors", draw, say) : null);
  }
  await draw();
  return card;
}
