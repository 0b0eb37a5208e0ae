// The admin's users: each one's role and whether they may sign in (a disabled account is
// signed out everywhere at once), 100 to a page, and a form for a new account.

import { api } from "./api.js";
import { h } from "./dom.js";

const ROLES = ["learner", "tutor", "admin"];
const PAGE = 100;

function userRow(u, save) {
  const role = h("select", { "aria-label": `Role of ${u.display_name}`, "data-testid": "user-role" },
    ...ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
  role.addEventListener("change", () => save(u, { role: role.value }));
  const active = h("input", { type: "checkbox", checked: u.active, "data-testid": "user-active",
    "aria-label": `${u.display_name} may sign in` });
  active.addEventListener("change", () => save(u, { active: active.checked }));
  return h("tr", { "data-testid": "user-row" }, h("td", {}, u.display_name),
    h("td", {}, u.email), h("td", {}, role), h("td", {}, active));
}

function newUserForm(say, reload) {
  const field = (attrs) => h("input", { required: "", ...attrs });
  const name = field({ "aria-label": "Name", placeholder: "Name", "data-testid": "new-user-name" });
  const email = field({ type: "email", "aria-label": "E-mail", placeholder: "E-mail",
    "data-testid": "new-user-email" });
  const password = field({ type: "password", minlength: "8", autocomplete: "new-password",
    "aria-label": "First password", placeholder: "First password (8 or more characters)",
    "data-testid": "new-user-password" });
  const role = h("select", { "aria-label": "Role", "data-testid": "new-user-role" },
    ...ROLES.map((r) => h("option", { value: r }, r)));
  return h("details", {}, h("summary", {}, "Add a user"),
    h("form", { class: "inline", onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api("POST", "/v1/users", { display_name: name.value, email: email.value,
          password: password.value, role: role.value });
        say(`${name.value} can sign in now.`);
        await reload();
      } catch (error) {
        say(error.message);
      }
    } }, name, email, password, role,
    h("button", { type: "submit", "data-testid": "new-user-create" }, "Add user")));
}

/**
 * @param {(t: string) => void} say
 * @param {() => Promise<void>} reload draws the whole desk again
 * @param {number} offset the first user shown
 * @param {(offset: number) => void} turn shows another page of users
 */
export async function usersSection(say, reload, offset, turn) {
  const users = await api("GET", `/v1/users?limit=${PAGE}&offset=${offset}`);
  async function save(user, change) {
    try {
      await api("PATCH", `/v1/users/${user.id}`, change);
      say("");
    } catch (error) {
      say(error.message);
    }
    await reload();
  }
  const pager = h("p", {},
    offset > 0 ? h("button", { type: "button", onclick: () => turn(Math.max(0, offset - PAGE)) },
      "Previous users") : null, " ",
    users.length === PAGE ? h("button", { type: "button", onclick: () => turn(offset + PAGE) },
      "Next users") : null);
  return h("section", {}, h("h2", {}, "Users"), newUserForm(say, reload),
    h("div", { class: "scroll" }, h("table", { class: "wide" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "E-mail"), h("th", {}, "Role"),
        h("th", {}, "Active"))),
      h("tbody", {}, ...users.map((u) => userRow(u, save))))), pager);
}
