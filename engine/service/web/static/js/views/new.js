// The front desk's new-complaint form, generated from the chosen process's fields (GET /v1/processes/{id}):
// types, required marks, enum choices, personal data marked. One Idempotency-Key per filled form, so a
// double click or a retry opens one case.
import { api, ApiError, newKey, request } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { fieldControl, readFields } from "../fields.js";
import { pick, t } from "../i18n.js";

export function rolesIn(me, processId, processRoles) {
  const held = new Set();
  for (const entry of me.roles) {
    const [scope, role] = entry.includes(":") ? entry.split(":", 2) : [null, entry];
    if ((scope === null || scope === processId) && role in processRoles) held.add(role);
  }
  return [...held];
}

export async function render(main, ctx) {
  const processes = await api("/v1/processes");
  const processId = uid("process");
  const formBox = h("div");
  const picker = h("select", { id: processId, onchange: () => draw(picker.value) },
    processes.map((p) => h("option", { value: p.id }, pick(p.title, p.title_en))));
  const heading = h("h1", { tabindex: "-1" }, t("new_title"));
  replace(main, heading,
    h("div", { class: "card" }, h("label", { for: processId }, t("choose_process")), picker), formBox);
  const chosen = new URLSearchParams(location.search).get("process");
  if (chosen && processes.some((p) => p.id === chosen)) picker.value = chosen;

  async function draw(id) {
    const spec = await api(`/v1/processes/${encodeURIComponent(id)}`);
    const roles = rolesIn(ctx.me, id, spec.role_titles);
    const initialOwner = spec.states[spec.initial_state]?.owner;
    const roleId = uid("role");
    const alert = h("div", { role: "alert" });
    const button = h("button", { type: "submit", class: "primary" }, t("submit_new"));
    let key = newKey();
    const form = h("form", { class: "card", novalidate: true, id: "new-case" },
      h("label", { for: roleId }, t("role")),
      h("select", { id: roleId, name: "role" }, roles.map((r) => h("option", {
        value: r, selected: r === initialOwner || undefined,
      }, pick(spec.role_titles[r].zh, spec.role_titles[r].en)))),
      Object.values(spec.fields).map((field) => fieldControl(field)),
      h("p", { class: "note" }, h("span", { class: "req" }, "*"), " ", t("required")),
      alert, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      replace(alert);
      button.disabled = true;
      try {
        const { data } = await request("/v1/cases", {
          method: "POST", headers: { "Idempotency-Key": key },
          body: { process: id, role: form.role.value, data: readFields(form) },
        });
        ctx.say(t("opened", { id: data.id }));
        ctx.go(`/cases/${data.id}`, { keepStatus: true });
      } catch (error) {
        if (error instanceof ApiError && error.status < 500) key = newKey(); // a refused form is a new request
        replace(alert, h("p", { class: "alert" }, t("refused", { detail: error.message })));
        button.disabled = false;
      }
    });
    replace(formBox, form);
  }
  await draw(picker.value);
  heading.focus();
}
