// The case page: the record, every running clock (budget, used, remaining, due), the actions the caller may
// take now as forms from their inputs, claim/assign, and the history as a timeline with breaches and
// escalations marked. It polls while open; an action carries If-Match with the revision its form was drawn
// at, so a change by someone else in between is refused (412) and said in words, never overwritten.
import { api, ApiError, request } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { fieldControl, readFields } from "../fields.js";
import { countdown, duration, formatTime } from "../format.js";
import { pick, t } from "../i18n.js";

const specs = new Map();
async function specOf(processId) {
  if (!specs.has(processId)) specs.set(processId, await api(`/v1/processes/${encodeURIComponent(processId)}`));
  return specs.get(processId);
}

function roleTitle(spec, role) {
  const title = spec.role_titles?.[role];
  return title ? pick(title.zh, title.en) : role || "";
}

function stateTitle(spec, state) {
  const s = spec.states?.[state];
  return s ? pick(s.title, s.title_en) : state;
}

function describe(event, spec, tz) {
  const p = event.payload;
  const deadlineTitle = (id) => {
    const d = spec.deadlines?.[id];
    return d ? pick(d.title, d.title_en) : p.title || id;
  };
  switch (event.kind) {
    case "started": return { text: t("ev_started"), mark: "" };
    case "acted": {
      const a = spec.actions?.[p.action];
      return { text: t("ev_acted", { action: a ? pick(a.title, a.title_en) : p.action,
        from: stateTitle(spec, p.from), to: stateTitle(spec, p.to) }), mark: "" };
    }
    case "deadline_met":
      return { text: t(p.on_time ? "ev_met" : "ev_met_late", { deadline: deadlineTitle(p.deadline) }), mark: p.on_time ? "" : "breach" };
    case "deadline_breached":
      return { text: "✗ " + t("ev_breached", { deadline: deadlineTitle(p.deadline), due: formatTime(p.due, tz) }), mark: "breach" };
    case "escalated":
      return { text: "↑ " + t("ev_escalated", { step: p.step, of: p.of, role: roleTitle(spec, p.role) }), mark: "escalation" };
    case "deadline_warning": return { text: t("ev_warning", { deadline: deadlineTitle(p.deadline) }), mark: "" };
    default: return { text: t("ev_other", { kind: event.kind }), mark: "" };
  }
}

// A checklist field's value on the record: every item, ticked (✓) or not (☐), said in words too.
function ticks(field, ticked) {
  return h("ul", { class: "ticks" }, (field.items || []).map((item) => {
    const done = ticked.includes(item.id);
    return h("li", { class: done ? "ticked" : "unticked", "data-item": item.id },
      h("span", { "aria-hidden": "true" }, done ? "✓ " : "☐ "),
      h("span", { class: "visually-hidden" }, done ? t("ticked") : t("not_ticked")), pick(item.title, item.title_en));
  }));
}

function clockRow(clock, spec, tz) {
  const { text, late } = countdown(clock);
  const notes = [];
  if (clock.breached) notes.push(h("span", { class: "badge late" }, t("breached")));
  if (clock.paused) notes.push(h("span", { class: "badge why" }, t("paused")));
  if (clock.provisional) notes.push(h("span", { class: "badge provisional", title: t("provisional_hint") }, t("provisional")));
  if (clock.escalation) {
    const roles = clock.escalation.roles.map((r) => roleTitle(spec, r)).join("、");
    notes.push(h("span", { class: "badge late" }, "↑ " + t("escalated_to", { ...clock.escalation, roles })));
  }
  const labels = [t("deadline_name"), t("budget"), t("used"), t("remaining"), t("due"), t("status")];
  return h("tr", { class: late ? "overdue" : undefined, "data-deadline": clock.deadline },
    h("td", { "data-label": labels[0] }, pick(clock.title, clock.title_en),
      h("br"), h("span", { class: "note" }, `${clock.rule} · ${t(clock.business ? "business" : "wall")}`)),
    h("td", { "data-label": labels[1] }, duration(clock.budget_seconds, clock.business)),
    h("td", { "data-label": labels[2] }, duration(clock.used_seconds, clock.business)),
    h("td", { "data-label": labels[3] }, h("span", { class: `countdown ${late ? "late" : "ok"}` }, text)),
    h("td", { "data-label": labels[4] }, formatTime(clock.due_at, tz)),
    h("td", { "data-label": labels[5] }, notes.length ? notes : "—"));
}

export async function render(main, ctx) {
  const caseId = decodeURIComponent(ctx.params[0]);
  const heading = h("h1", { tabindex: "-1" }, t("case_title", { id: caseId }));
  const meta = h("p", { class: "note", id: "case-meta" });
  const holder = h("section", { class: "card", "aria-labelledby": "holder-h" });
  const record = h("section", { class: "card", "aria-labelledby": "record-h" });
  const clocks = h("section", { class: "card", "aria-labelledby": "clocks-h" });
  const actions = h("section", { class: "card actions", "aria-labelledby": "actions-h", id: "actions" });
  const timeline = h("section", { class: "card", "aria-labelledby": "history-h" });
  replace(main, heading, meta, clocks, actions, holder, record, timeline);
  let shown = null; // the case as last drawn
  let drawnRevision = null; // the revision the action forms were drawn at

  async function load() {
    const { data: item, headers } = await request(`/v1/cases/${encodeURIComponent(caseId)}`);
    const revision = Number((headers.get("ETag") || "").replaceAll('"', "")) || item.revision;
    const spec = await specOf(item.process);
    const tz = item.timezone;
    const changed = !shown || shown.revision !== revision;
    const moved = changed || shown.assignee !== item.assignee;
    shown = item;
    replace(meta, `${pick(item.process_title, item.process_title_en)} v${item.process_version} · `,
      h("strong", {}, pick(item.state_title, item.state_title_en)),
      item.closed_at ? ` · ${t("closed")}` : ` · ${t("owner")}：${roleTitle(spec, item.owner_role)}`,
      ` · ${t("revision")} ${revision}`);
    drawClocks(item, spec, tz);
    if (moved) drawHolder(item); // not on every poll: it would wipe a user id being typed
    if (changed) {
      drawRecord(item, spec);
      const [available, history] = await Promise.all([
        api(`/v1/cases/${encodeURIComponent(caseId)}/actions`),
        api(`/v1/cases/${encodeURIComponent(caseId)}/history`),
      ]);
      drawActions(available, spec, revision);
      drawHistory(history, spec, tz);
    }
  }

  function drawClocks(item, spec, tz) {
    if (!item.deadlines.length) {
      replace(clocks, h("h2", { id: "clocks-h" }, t("clocks")), h("p", {}, t("no_clocks")));
      return;
    }
    const head = [t("deadline_name"), t("budget"), t("used"), t("remaining"), t("due"), t("status")];
    replace(clocks, h("h2", { id: "clocks-h" }, t("clocks")), h("div", { class: "table-wrap" },
      h("table", { class: "stack", id: "clocks" },
        h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, item.deadlines.map((c) => clockRow(c, spec, tz))))));
  }

  // A personal value the caller's roles may not see: the API sent *** in its place.
  function hiddenValue() {
    return h("span", { class: "masked", title: t("hidden_for_role") },
      h("span", { "aria-hidden": "true" }, "***"), " ", h("span", { class: "note" }, t("hidden_for_role")));
  }

  function drawRecord(item, spec) {
    const fields = spec.fields || {};
    const names = [...new Set([...Object.keys(fields), ...Object.keys(item.data)])].filter((n) => n in item.data);
    replace(record, h("h2", { id: "record-h" }, t("record")), h("dl", { class: "record" }, names.map((name) => {
      const f = fields[name] || {};
      const value = item.data[name];
      return [h("dt", {}, pick(f.title || name, f.title_en), f.pii ? h("span", { class: "badge pii", title: t("pii_hint") }, t("pii")) : null),
        h("dd", {}, (item.hidden || []).includes(name) ? hiddenValue()
          : f.type === "checklist" && Array.isArray(value) ? ticks(f, value)
          : typeof value === "boolean" ? t(value ? "yes" : "no") : String(value))];
    })));
  }

  function drawHolder(item) {
    const alert = h("div", { role: "alert" });
    const userId = uid("assign");
    const assign = async (user) => {
      replace(alert);
      try {
        await api(`/v1/cases/${encodeURIComponent(caseId)}/assignee`, { method: "PUT", body: { user } });
        ctx.say(t("assigned"));
        await load();
      } catch (error) {
        replace(alert, h("p", { class: "alert" }, t("refused", { detail: error.message })));
      }
    };
    const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); assign(form.user.value.trim() || null); } },
      h("div", {}, h("label", { for: userId }, t("assign_to")), h("input", { id: userId, name: "user", autocomplete: "off" })),
      h("div", {}, h("button", { type: "submit", class: "secondary" }, t("assign"))));
    replace(holder, h("h2", { id: "holder-h" }, t("holder")),
      h("p", { id: "assignee" }, item.assignee || t("none")),
      item.closed_at ? null : [
        item.assignee !== ctx.me.id ? h("button", { type: "button", class: "secondary", id: "claim", onclick: () => assign(ctx.me.id) }, t("claim")) : null,
        item.assignee ? [" ", h("button", { type: "button", class: "secondary", onclick: () => assign(null) }, t("release"))] : null,
        form],
      alert);
  }

  function drawActions(available, spec, revision) {
    drawnRevision = revision;
    const forms = available.map((action) => {
      const alert = h("div", { role: "alert" });
      const button = h("button", { type: "submit", class: "primary" }, pick(action.title, action.title_en));
      const form = h("form", { "data-action": action.action, "data-role": action.role, novalidate: true },
        h("h3", {}, pick(action.title, action.title_en), " ",
          h("span", { class: "note" }, t("as_role", { role: roleTitle(spec, action.role) }))),
        action.inputs.map((field) => fieldControl(field, shown.data[field.name])), alert, button);
      const formRevision = drawnRevision;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        replace(alert);
        button.disabled = true;
        try {
          await request(`/v1/cases/${encodeURIComponent(caseId)}/actions/${encodeURIComponent(action.action)}`, {
            method: "POST", headers: { "If-Match": `"${formRevision}"` },
            body: { role: action.role, inputs: readFields(form) },
          });
          ctx.say(t("done", { action: pick(action.title, action.title_en) }));
          await load();
        } catch (error) {
          if (error instanceof ApiError && error.status === 412) {
            ctx.say(t("stale", { revision: error.problem.revision ?? "?" }), { error: true });
            shown = null; // draw everything again from the case as it is now
            await load();
            return;
          }
          replace(alert, h("p", { class: "alert" }, t("refused", { detail: error.message })));
          button.disabled = false;
        }
      });
      return form;
    });
    replace(actions, h("h2", { id: "actions-h" }, t("actions")), forms.length ? forms : h("p", {}, t("no_actions")));
  }

  function drawHistory(history, spec, tz) {
    replace(timeline, h("h2", { id: "history-h" }, t("history")), h("ol", { class: "timeline", id: "timeline" },
      history.map((event) => {
        const { text, mark } = describe(event, spec, tz);
        const who = event.role === "system" ? t("system") : `${event.actor}（${roleTitle(spec, event.role)}）`;
        return h("li", { class: mark || undefined, "data-kind": event.kind },
          h("time", {}, formatTime(event.at, tz)), h("span", { class: "who" }, who, " "), h("span", { class: "what" }, text));
      })));
  }

  await load();
  heading.focus();
  const poll = () => load().catch((error) => ctx.say(t("error", { detail: error.message }), { error: true }));
  const timer = setInterval(poll, ctx.pollMs());
  return () => clearInterval(timer);
}
