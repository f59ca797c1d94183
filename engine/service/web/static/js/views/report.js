// The managers' report (GET /v1/report, the same numbers as `complaintflow report`): on-time rates per
// deadline, escalations by role and the complaint rate against the 5% target as inline SVG bars, each with
// its table; CSV export (UTF-8 with a byte-order mark, for Excel) through the same endpoint.
import { request } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { pick, t } from "../i18n.js";

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const short = (text, n = 18) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

// Horizontal bars; ``target`` draws a dashed line at that value (the 5% complaint-rate goal).
function bars(rows, { label, max, format, target, id }) {
  const rowH = 26, labelW = 230, barW = 330, width = labelW + barW + 70;
  const scale = max > 0 ? barW / max : 0;
  const svg = h("svg:svg", { viewBox: `0 0 ${width} ${rowH * rows.length + 8}`, width, role: "img", "aria-label": label, id },
    h("svg:title", {}, label));
  rows.forEach((row, i) => {
    const y = i * rowH + 4;
    const colour = row.colour || "#1d4e89";
    svg.append(
      h("svg:text", { x: 0, y: y + 16 }, h("svg:title", {}, row.label), short(row.label)),
      h("svg:rect", { x: labelW, y: y + 3, width: barW, height: rowH - 8, fill: "#e6ebf1" }),
      h("svg:rect", { x: labelW, y: y + 3, width: Math.max(0, Math.round(row.value * scale)), height: rowH - 8, fill: colour }),
      h("svg:text", { x: labelW + barW + 6, y: y + 16 }, format(row.value)));
  });
  if (target !== undefined) {
    const x = labelW + Math.round(target * scale);
    svg.append(h("svg:line", { x1: x, x2: x, y1: 0, y2: rowH * rows.length + 8, stroke: "#a4161a", "stroke-width": 2, "stroke-dasharray": "4 3" }));
  }
  return h("div", { class: "chart" }, svg);
}

function table(caption, head, rows) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((x) => h("td", {}, x)))))));
}

function currentMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}

export async function render(main, ctx) {
  const params = new URLSearchParams(location.search);
  const periodId = uid("period");
  const householdsId = uid("households");
  const alert = h("div", { role: "alert" });
  const out = h("div", { id: "report" });
  const form = h("form", { class: "card filters", novalidate: true },
    h("div", {}, h("label", { for: periodId }, t("period")),
      h("input", { id: periodId, name: "period", value: params.get("period") || currentMonth(), required: true })),
    h("div", {}, h("label", { for: householdsId }, t("households")),
      h("input", { id: householdsId, name: "households", type: "number", min: 1, value: params.get("households") || "" })),
    h("div", {}, h("button", { type: "submit", class: "primary" }, t("show_report")), " ",
      h("button", { type: "button", class: "secondary", id: "export-csv", onclick: () => exportCsv() }, t("export_csv"))));
  const heading = h("h1", { tabindex: "-1" }, t("report_title"));
  replace(main, heading, form, alert, out);

  const query = (format) => {
    const q = new URLSearchParams({ period: form.period.value.trim(), format });
    if (form.households.value) q.set("households", form.households.value);
    return q;
  };

  async function show() {
    replace(alert);
    try {
      const { data } = await request(`/v1/report?${query("json")}`);
      const shown = query("json");
      shown.delete("format");
      history.replaceState(null, "", `/report?${shown}`);
      draw(data);
    } catch (error) {
      replace(out);
      replace(alert, h("p", { class: "alert" }, t("refused", { detail: error.message })));
    }
  }

  async function exportCsv() {
    replace(alert);
    try {
      const { data: blob, headers } = await request(`/v1/report?${query("csv")}`, { as: "blob" });
      const name = (headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || "report.csv";
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      ctx.say(t("csv_saved", { name }));
    } catch (error) {
      replace(alert, h("p", { class: "alert" }, t("refused", { detail: error.message })));
    }
  }

  function draw(report) {
    const parts = [h("p", {}, t("cases_opened", { n: report.cases }), " · ", `${report.start} – ${report.end}`),
      h("p", { class: report.complaint_rate ? `verdict-${report.complaint_rate.verdict}` : "note", id: "rate-line" },
        report.complaint_rate_line)];
    const judged = report.deadlines.filter((d) => d.rate !== null);
    parts.push(h("h2", {}, t("on_time")));
    if (judged.length) {
      parts.push(bars(judged.map((d) => ({
        label: d.title || d.deadline, value: d.rate,
        colour: d.rate >= 0.9 ? "#1e6b2f" : d.rate >= 0.5 ? "#8a5a00" : "#a4161a",
      })), { label: t("on_time"), max: 1, format: pct, id: "chart-on-time" }));
      parts.push(table(t("on_time"), [t("process"), t("deadline"), "✓", "late", "✗", t("rate")],
        report.deadlines.map((d) => [d.process, d.title || d.deadline, d.on_time, d.late, d.breached, pct(d.rate)])));
    } else parts.push(h("p", {}, t("no_data")));
    parts.push(h("h2", {}, t("escalations")));
    const byRole = new Map();
    for (const e of report.escalations) byRole.set(e.role, (byRole.get(e.role) || 0) + e.count);
    if (byRole.size) {
      const most = Math.max(...byRole.values());
      parts.push(bars([...byRole].map(([role, n]) => ({ label: role, value: n, colour: "#8a5a00" })),
        { label: t("escalations"), max: most, format: String, id: "chart-escalations" }));
      parts.push(table(t("escalations"), [t("process"), "chain", "step", "role", t("count")],
        report.escalations.map((e) => [e.process, e.chain, `${e.step}/${e.of}`, e.role, e.count])));
    } else parts.push(h("p", {}, t("no_data")));
    parts.push(h("h2", {}, t("complaint_rate")));
    const rate = report.complaint_rate;
    if (rate) {
      parts.push(bars([{ label: t("complaint_rate"), value: rate.rate, colour: rate.verdict === "PASS" ? "#1e6b2f" : "#a4161a" },
        { label: t("target"), value: rate.target, colour: "#4a5361" }],
      { label: t("complaint_rate"), max: Math.max(rate.rate, rate.target) * 1.25, format: pct, target: rate.target, id: "chart-rate" }));
    } else parts.push(h("p", { class: "note" }, report.complaint_rate_note));
    parts.push(h("h2", {}, t("review")));
    parts.push(report.review.length ? table(t("review"), [t("case"), t("process"), t("state"), t("age")],
      report.review.map((r) => [h("a", { href: `/cases/${r.case_id}`, "data-link": true }, r.case_id), r.process,
        pick(r.state_title, r.state), r.age_hours])) : h("p", {}, t("no_data")));
    replace(out, parts);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  await show();
  heading.focus();
}
