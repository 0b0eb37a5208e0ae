// The admin's desk: users and roles, courses with their exercises and learners, and
// rescoring jobs with a progress bar that moves while the workers run.

import { api } from "./api.js";
import { fill, h } from "./dom.js";

const ROLES = ["learner", "tutor", "admin"];

function usersSection(users, say, reload) {
  const rows = users.map((u) => {
    const role = h("select", { "aria-label": `Role of ${u.display_name}`, "data-testid": "user-role" },
      ...ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    role.addEventListener("change", () => save(u, { role: role.value }));
    const active = h("input", { type: "checkbox", checked: u.active, "data-testid": "user-active",
      "aria-label": `${u.display_name} may sign in` });
    active.addEventListener("change", () => save(u, { active: active.checked }));
    return h("tr", { "data-testid": "user-row" }, h("td", {}, u.display_name),
      h("td", {}, u.email), h("td", {}, role), h("td", {}, active));
  });
  async function save(user, change) {
    try {
      await api("PATCH", `/v1/users/${user.id}`, change);
      say("");
    } catch (error) {
      say(error.message);
    }
    await reload();
  }
  return h("section", {}, h("h2", {}, "Users"),
    h("table", { class: "wide" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"),
      h("th", {}, "E-mail"), h("th", {}, "Role"), h("th", {}, "Active"))), h("tbody", {}, ...rows)));
}

function exerciseForm(course, reload, say, exercise = null) {
  const prefix = exercise ? "exercise" : "new-exercise";
  const title = h("input", { "aria-label": "Title", required: "", value: exercise?.title ?? "",
    "data-testid": `${prefix}-title` });
  const text = h("textarea", { "aria-label": "Text to read aloud", required: "",
    "data-testid": `${prefix}-text` }, exercise?.reference_text ?? "");
  return h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const body = { title: title.value, reference_text: text.value };
      if (exercise) await api("PATCH", `/v1/exercises/${exercise.id}`, body);
      else await api("POST", `/v1/courses/${course.id}/exercises`, { kind: "read_aloud", ...body });
      await reload();
    } catch (error) {
      say(error.message);
    }
  } }, title, text, h("button", { type: "submit", "data-testid": exercise ? "exercise-save" : "exercise-create" },
    exercise ? "Save" : "Add exercise"));
}

async function courseCard(course, learners, say, reload) {
  const exercises = await api("GET", `/v1/courses/${course.id}/exercises?include_archived=true`);
  const items = exercises.map((e) => h("li", { "data-testid": "admin-exercise" },
    h("details", {}, h("summary", {}, e.title, e.archived ? " (archived)" : ""),
      exerciseForm(course, reload, say, e),
      e.archived ? null : h("button", { type: "button", "data-testid": "exercise-archive",
        onclick: async () => { await api("POST", `/v1/exercises/${e.id}/archive`); await reload(); } },
      "Archive"))));
  const pick = h("select", { "aria-label": "Learner to enrol", "data-testid": "enrol-pick" },
    ...learners.map((u) => h("option", { value: u.id }, u.display_name)));
  const enrol = h("button", { type: "button", "data-testid": "enrol-add", onclick: async () => {
    try {
      await api("POST", `/v1/courses/${course.id}/learners`, { user_id: pick.value });
      say(`Enrolled in ${course.title}.`);
    } catch (error) {
      say(error.message);
    }
  } }, "Enrol");
  const progress = h("div", { class: "meter", "data-testid": "job-progress", role: "progressbar",
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill(0));
  const jobStatus = h("span", { "data-testid": "job-status" });
  const rescore = h("button", { type: "button", "data-testid": "job-start", onclick: async () => {
    try {
      const job = await api("POST", "/v1/rescore-jobs", { scope: { course_id: course.id } });
      await follow(job, progress, jobStatus);
    } catch (error) {
      say(error.message);
    }
  } }, "Rescore this course");
  return h("li", { class: "card", "data-testid": "admin-course" },
    h("h3", {}, course.title, ` · ${course.status}`),
    h("ul", {}, ...items), exerciseForm(course, reload, say),
    h("p", {}, pick, " ", enrol),
    h("p", {}, rescore, " ", jobStatus), progress,
    course.status === "archived" ? null : h("button", { type: "button", onclick: async () => {
      await api("POST", `/v1/courses/${course.id}/archive`);
      await reload();
    } }, "Archive course"));
}

async function follow(job, progress, status) {
  for (;;) {
    const share = job.total ? Math.round((100 * (job.done + job.failed)) / job.total) : 100;
    progress.replaceChildren(fill(share));
    progress.setAttribute("aria-valuenow", String(share));
    status.textContent = `${job.status}: ${job.done} of ${job.total} rescored`;
    if (!["pending", "running"].includes(job.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await api("GET", `/v1/rescore-jobs/${job.id}`);
  }
}

/** @param {{show: (...c: Node[]) => void, say: (t: string) => void}} page */
export async function adminPage(page) {
  const reload = () => adminPage(page);
  const users = await api("GET", "/v1/users?limit=200");
  const courses = await api("GET", "/v1/courses?limit=100");
  const learners = users.filter((u) => u.role === "learner" && u.active);
  const cards = [];
  for (const course of courses) cards.push(await courseCard(course, learners, page.say, reload));
  const title = h("input", { "aria-label": "New course title", required: "",
    "data-testid": "course-title" });
  const create = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    await api("POST", "/v1/courses", { title: title.value, status: "published" });
    await reload();
  } }, title, h("button", { type: "submit", "data-testid": "course-create" }, "Create course"));
  page.show(h("h1", {}, "Administration"), usersSection(users, page.say, reload),
    h("section", {}, h("h2", {}, "Courses"), create, h("ul", { class: "plain" }, ...cards)));
}
