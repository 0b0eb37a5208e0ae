// The admin's desk: users and their roles, courses with their exercises and members, and
// rescoring jobs. Each section is in its own module; this one lays them out.

import { courseCard } from "./admin-courses.js";
import { jobsSection } from "./admin-jobs.js";
import { usersSection } from "./admin-users.js";
import { api } from "./api.js";
import { h } from "./dom.js";

function newCourseForm(say, reload) {
  const title = h("input", { "aria-label": "New course title", required: "",
    placeholder: "Title", "data-testid": "course-title" });
  const status = h("select", { "aria-label": "Status of the new course" },
    h("option", { value: "published" }, "published"), h("option", { value: "draft" }, "draft"));
  return h("form", { class: "row", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/v1/courses", { title: title.value, status: status.value });
      await reload();
    } catch (error) {
      say(error.message);
    }
  } }, title, status, h("button", { type: "submit", "data-testid": "course-create" }, "Create course"));
}

/** @param {{show: (...c: Node[]) => void, say: (t: string) => void}} page */
export async function adminPage(page, userOffset = 0) {
  const reload = () => adminPage(page, userOffset);
  const users = await usersSection(page.say, reload, userOffset, (offset) => adminPage(page, offset)
    .catch((error) => page.say(error.message)));
  const courses = await api("GET", "/v1/courses?limit=200");
  const learners = await api("GET", "/v1/users?role=learner&limit=200");
  const tutors = await api("GET", "/v1/users?role=tutor&limit=200");
  const people = { learners: learners.filter((u) => u.active), tutors: tutors.filter((u) => u.active) };
  const cards = [];
  for (const course of courses) cards.push(await courseCard(course, { say: page.say, people }));
  const jobs = await jobsSection(courses.filter((c) => c.status !== "archived"), page.say);
  page.show(h("h1", {}, "Administration"),
    h("nav", { class: "toc", "aria-label": "Sections" },
      h("a", { href: "#users" }, "Users"), h("a", { href: "#courses" }, "Courses"),
      h("a", { href: "#rescoring" }, "Rescoring")),
    withId(users, "users"),
    h("section", { id: "courses" }, h("h2", {}, "Courses"), newCourseForm(page.say, reload),
      h("ul", { class: "plain" }, ...cards)),
    withId(jobs, "rescoring"));
}

function withId(el, id) {
  el.id = id;
  return el;
}
