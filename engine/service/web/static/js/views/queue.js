// My queue (GET /v1/queue): cases I hold, then my roles' cases and those escalated to me, overdue first,
// each with the countdown of its most urgent clock in business time (a manager: every open case). The
// search form asks GET /v1/cases by process, state, phone, customer text and opening days.
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
  return true;
}

// The search's query for GET /v1/cases: only the filters that are filled in (the API parses the days).
function searchQuery(filters) {
  const query = new URLSearchParams({ limit: "200" });
  for (const [key, name] of [["process", "process"], ["state", "state"], ["phone", "phone"], ["customer", "q"],
    ["from", "opened_from"], ["to", "opened_to"]]) {
    if (filters[key].trim()) query.set(name, filters[key].trim());
  }
  return query;
}

function select(id, label, options, value, onChange) {
  return h("div", {},
    h("label", { for: id }, label),
    h("select", { id, onchange: (e) => onChange(e.target.value) },
      h("option", { value: "" }, t("all")),
      options.map(([v, text]) => h("option", { value: v, selected: v === value || undefined }, text))));
}

function input(label, type, value, onInput, extra = {}) {
  const id = uid(type);
  return h("div", {}, h("label", { for: id }, label),
    h("input", { id, type, value, oninput: (e) => onInput(e.target.value), ...extra }));
}

export async function render(main, ctx) {
  const filters = { process: "", state: "", phone: "", customer: "", from: "", to: "" };
  const manager = Boolean(ctx.me && ctx.me.manager);
  const title = manager ? t("queue_all_title") : t("queue_title");
  const heading = h("h1", { tabindex: "-1" }, title);
  const summary = h("p", { class: "note", "aria-live": "polite" });
  const filterBox = h("form", { class: "card filters", role: "search", "aria-label": t("search") });
  const list = h("div", { class: "table-wrap" });
  replace(main, heading, filterBox, summary, list);
  let items = [];
  let searching = null; // null: my queue (live filters); else the submitted query of GET /v1/cases
  const processes = await api("/v1/processes");
  const states = new Map(); // process id -> its states, read when the process is chosen

  const draw = () => {
    const shown = searching ? items : items.filter((item) => matches(item, filters));
    const late = shown.filter((item) => item.overdue).length;
    summary.textContent = `${searching ? t("search_results") + " · " : ""}${t("cases_count", { n: shown.length })} · ${t("overdue_count", { n: late })}`;
    if (!shown.length) {
      replace(list, h("p", {}, searching ? t("no_results") : t("empty_queue")));
      return;
    }
    const head = [t("case"), t("process"), t("state"), t("deadline"), searching ? t("case_status") : t("why"), t("assignee")];
    replace(list, h("table", { class: "stack", id: searching ? "results" : "queue" },
      h("caption", {}, searching ? t("search_results") : title),
      h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, shown.map((item) => h("tr", { class: item.overdue ? "overdue" : undefined, "data-case": item.id },
        h("td", { "data-label": head[0] },
          h("a", { href: `/cases/${item.id}`, "data-link": true }, item.id),
          h("br"), h("span", { class: "note" }, formatTime(item.opened_at, item.timezone))),
        h("td", { "data-label": head[1] }, pick(item.process_title, item.process_title_en)),
        h("td", { "data-label": head[2] }, pick(item.state_title, item.state_title_en)),
        h("td", { "data-label": head[3] }, urgentCell(item)),
        h("td", { "data-label": head[4] }, searching
          ? h("span", { class: "badge why" }, item.closed_at ? t("closed") : t("case_open"))
          : h("span", { class: "badge why" }, t(`why_${item.why}`))),
        h("td", { "data-label": head[5] }, item.assignee || t("none")))))));
  };

  const stateOptions = () => {
    if (filters.process && states.has(filters.process)) {
      return Object.entries(states.get(filters.process)).map(([id, s]) => [id, pick(s.title, s.title_en)]);
    }
    return [...new Map(items.map((i) => [i.state, pick(i.state_title, i.state_title_en)]))];
  };

  const chooseProcess = async (value) => {
    filters.process = value;
    filters.state = "";
    if (value && !states.has(value)) states.set(value, (await api(`/v1/processes/${encodeURIComponent(value)}`)).states);
    drawFilters();
    draw();
  };

  const drawFilters = () => {
    const processOptions = processes.map((p) => [p.id, pick(p.title, p.title_en)]);
    replace(filterBox,
      select(uid("process"), t("process"), processOptions, filters.process, (v) => chooseProcess(v).catch(fail)),
      select(uid("state"), t("state"), stateOptions(), filters.state, (v) => { filters.state = v; draw(); }),
      input(t("phone"), "search", filters.phone, (v) => { filters.phone = v; }, { inputmode: "tel", name: "phone" }),
      input(t("customer"), "search", filters.customer, (v) => { filters.customer = v; }, { name: "q" }),
      input(t("opened_from"), "date", filters.from, (v) => { filters.from = v; }, { name: "opened_from" }),
      input(t("opened_to"), "date", filters.to, (v) => { filters.to = v; }, { name: "opened_to" }),
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "primary" }, t("search")),
        h("button", { type: "button", class: "secondary", onclick: () => clear().catch(fail) }, t("clear_search"))));
  };

  const load = async () => {
    items = searching ? (await api(`/v1/cases?${searching}`)).items : await api("/v1/queue");
    draw();
  };
  const fail = (error) => ctx.say(t("error", { detail: error.message }), { error: true });
  const clear = async () => {
    Object.keys(filters).forEach((key) => { filters[key] = ""; });
    searching = null;
    await load();
    drawFilters();
  };
  filterBox.addEventListener("submit", (event) => {
    event.preventDefault();
    searching = searchQuery(filters);
    load().catch(fail);
  });
  await load();
  drawFilters();
  heading.focus();
  const timer = setInterval(() => load().catch(fail), ctx.pollMs());
  return () => clearInterval(timer);
}
