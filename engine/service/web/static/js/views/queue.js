// My queue (GET /v1/queue): cases I hold, then my roles' cases and those escalated to me, overdue first,
// each with the countdown of its most urgent clock in business time. Filters by state, process and phone.
import { api } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { countdown, formatTime } from "../format.js";
import { pick, t } from "../i18n.js";

export function urgentCell(item) {
  const clock = item.deadlines[0];
  if (!clock) return h("span", { class: "note" }, t("none"));
  const { text, late } = countdown(clock);
  return h("span", {},
    h("span", { class: `countdown ${late ? "late" : "ok"}` }, text),
    clock.provisional ? h("span", { class: "badge provisional", title: t("provisional_hint") }, t("provisional")) : null,
    h("br"), h("span", { class: "note" }, pick(clock.title, clock.title_en)));
}

function matches(item, filters) {
  if (filters.process && item.process !== filters.process) return false;
  if (filters.state && item.state !== filters.state) return false;
  if (filters.phone) {
    const wanted = filters.phone.replace(/\D/g, "");
    const values = Object.values(item.data || {}).map((v) => String(v).replace(/\D/g, ""));
    if (!wanted || !values.some((v) => v.includes(wanted))) return false;
  }
  return true;
}

function select(id, label, options, value, onChange) {
  return h("div", {},
    h("label", { for: id }, label),
    h("select", { id, onchange: (e) => onChange(e.target.value) },
      h("option", { value: "" }, t("all")),
      options.map(([v, text]) => h("option", { value: v, selected: v === value || undefined }, text))));
}

export async function render(main, ctx) {
  const filters = { process: "", state: "", phone: "" };
  const heading = h("h1", { tabindex: "-1" }, t("queue_title"));
  const summary = h("p", { class: "note", "aria-live": "polite" });
  const filterBox = h("form", { class: "card filters", role: "search", "aria-label": t("filters") });
  const list = h("div", { class: "table-wrap" });
  replace(main, heading, filterBox, summary, list);
  let items = [];

  const draw = () => {
    const shown = items.filter((item) => matches(item, filters));
    const late = shown.filter((item) => item.overdue).length;
    summary.textContent = `${t("cases_count", { n: shown.length })} · ${t("overdue_count", { n: late })}`;
    if (!shown.length) {
      replace(list, h("p", {}, t("empty_queue")));
      return;
    }
    const head = [t("case"), t("process"), t("state"), t("deadline"), t("why"), t("assignee")];
    replace(list, h("table", { class: "stack", id: "queue" },
      h("caption", {}, t("queue_title")),
      h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, shown.map((item) => h("tr", { class: item.overdue ? "overdue" : undefined, "data-case": item.id },
        h("td", { "data-label": head[0] },
          h("a", { href: `/cases/${item.id}`, "data-link": true }, item.id),
          h("br"), h("span", { class: "note" }, formatTime(item.opened_at, item.timezone))),
        h("td", { "data-label": head[1] }, pick(item.process_title, item.process_title_en)),
        h("td", { "data-label": head[2] }, pick(item.state_title, item.state_title_en)),
        h("td", { "data-label": head[3] }, urgentCell(item)),
        h("td", { "data-label": head[4] }, h("span", { class: "badge why" }, t(`why_${item.why}`))),
        h("td", { "data-label": head[5] }, item.assignee || t("none")))))));
  };

  const drawFilters = () => {
    const processes = [...new Map(items.map((i) => [i.process, pick(i.process_title, i.process_title_en)]))];
    const states = [...new Map(items.filter((i) => !filters.process || i.process === filters.process)
      .map((i) => [i.state, pick(i.state_title, i.state_title_en)]))];
    const phoneId = uid("phone");
    replace(filterBox,
      select(uid("process"), t("process"), processes, filters.process, (v) => { filters.process = v; drawFilters(); draw(); }),
      select(uid("state"), t("state"), states, filters.state, (v) => { filters.state = v; draw(); }),
      h("div", {}, h("label", { for: phoneId }, t("phone")),
        h("input", { id: phoneId, type: "search", inputmode: "tel", value: filters.phone,
          oninput: (e) => { filters.phone = e.target.value; draw(); } })));
  };

  const load = async () => {
    items = await api("/v1/queue");
    if (!filterBox.childElementCount) drawFilters();
    draw();
  };
  await load();
  heading.focus();
  const timer = setInterval(() => load().catch((error) => ctx.say(t("error", { detail: error.message }), { error: true })), ctx.pollMs());
  return () => clearInterval(timer);
}
