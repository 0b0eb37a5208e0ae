// The tutor's desk: the sessions live now on any node (refreshed every 3 s) with one
// session's transcript as it is spoken; their courses, whose exercises they manage as an
// admin does and whose usage they read; and their learners, of every course or of one,
// with counts and averages.

import { courseCard } from "./admin-courses.js";
import { api } from "./api.js";
import { courseStatistics } from "./course-stats.js";
import { h, when } from "./dom.js";
import { SessionWatch, live } from "./tutor.js";

let watch = null;
let refresher = null;

/** Stop what the desk runs in the background: called when the user leaves it. */
export function leaveDesk() {
  clearInterval(refresher);
  refresher = null;
  if (watch) watch.close();
  watch = null;
}

function learnerRow(row) {
  const average = row.average && row.average.overall !== null
    ? ` · average ${Math.round(row.average.overall)}` : "";
  const last = row.last_activity ? ` · last ${when(row.last_activity)}` : "";
  return h("li", { class: "card", "data-testid": "tutor-learner-row" },
    h("a", { href: `/tutor/learners/${row.learner.id}` }, row.learner.display_name),
    ` · ${row.session_count} session${row.session_count === 1 ? "" : "s"}${average}${last}`);
}

/** The learners of `courseId` (every course of the tutor when ""), a page at a time. */
async function learnerList(courseId, say) {
  const list = h("ul", { class: "plain", "data-testid": "tutor-learners" });
  const more = h("button", { type: "button", hidden: "" }, "More learners");
  let cursor = null;
  async function next() {
    const course = courseId ? `&course_id=${courseId}` : "";
    const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await api("GET", `/v1/tutor/learners?limit=100${course}${after}`);
    list.append(...page.items.map(learnerRow));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
    if (!list.children.length) list.append(h("li", {}, "No learners yet."));
  }
  more.addEventListener("click", () => next().catch((error) => say(error.message)));
  await next();
  return h("div", {}, list, more);
}

/** The course's exercises and members, loaded when opened: its tutors manage them too. */
function manage(course, say) {
  const inside = h("ul", { class: "plain" });
  return h("details", { ontoggle: (event) => {
    if (!event.target.open || inside.children.length) return;
    courseCard(course, { say }).then((card) => inside.append(card))
      .catch((error) => say(error.message));
  } }, h("summary", {}, "Exercises and members"), inside);
}

/**
 * @param {{show: (...c: Node[]) => void, say: (t: string) => void, current: () => boolean,
 *          me: {role: string}}} page
 */
export async function tutorDesk(page) {
  // An admin teaches no course but sees every one; a tutor, those they are in.
  const courses = page.me.role === "admin"
    ? await api("GET", "/v1/courses?limit=200")
    : await api("GET", "/v1/courses?enrolled=true&limit=200");
  const liveList = h("ul", { class: "plain", "data-testid": "live-list" });
  const transcript = h("p", { class: "transcript", "data-testid": "live-transcript",
    "aria-live": "polite", hidden: "" });
  const learners = h("div", {}, await learnerList("", page.say));
  const pick = h("select", { "data-testid": "tutor-course-pick" },
    h("option", { value: "" }, "All my courses"),
    ...courses.map((c) => h("option", { value: c.id }, c.title)));
  pick.addEventListener("change", () => learnerList(pick.value, page.say)
    .then((list) => learners.replaceChildren(list)).catch((error) => page.say(error.message)));
  const courseRows = courses.map((c) => h("li", { class: "card", "data-testid": "tutor-course-row" },
    h("strong", {}, c.title), ` · ${c.status}`, c.level ? ` · ${c.level}` : "", manage(c, page.say),
    courseStatistics(c, page.say)));
  const refresh = async () => {
    const items = await live();
    liveList.replaceChildren(...items.map((item) =>
      h("li", { class: "card" },
        h("button", { type: "button", "data-testid": "live-session-row", onclick: () => {
          if (watch) watch.close();
          transcript.textContent = "";
          transcript.hidden = false;
          watch = new SessionWatch(item.session_id,
            (text) => { transcript.textContent = text; }, page.say);
        } }, `${item.learner.display_name} · ${item.exercise.title}`))));
    if (!items.length) liveList.append(h("li", {}, "Nobody is practising right now."));
  };
  await refresh();
  if (!page.current()) return;
  leaveDesk();
  refresher = setInterval(() => refresh().catch(() => {}), 3000);
  page.show(
    h("h1", {}, "Tutor"),
    h("h2", {}, "Live now"), liveList, transcript,
    h("h2", {}, "My courses"),
    courses.length ? h("ul", { class: "plain" }, ...courseRows) : h("p", {}, "No courses yet."),
    h("h2", {}, "Learners"), h("label", { class: "field" }, "Course", pick), learners,
  );
}
