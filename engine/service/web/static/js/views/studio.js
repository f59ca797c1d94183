// The studio, for the people who write the rules: a process's YAML in an editor with schema completion,
// the server's positioned problems on their lines and in a docked list (click to jump), the Mermaid diagram
// redrawn as they type (strict mode), the changes against the deployed version, a what-if that simulates
// deployed against draft, and publish (refused while there are errors or the version was not raised).
// Everything goes through the API: POST /v1/drafts, POST /v1/drafts/what-if, POST /v1/processes.
import { api, ApiError, token } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { lang, pick } from "../i18n.js";

const W = (zh, en) => (lang() === "en" ? en : zh);
const DEBOUNCE_MS = 400;
let editorModule = null;
let mermaidReady = null;

async function editorKit() {
  editorModule = editorModule || (await import("/assets/vendor/editor.js"));
  return editorModule;
}

function loadMermaid() {
  // Mermaid's own browser build is a classic script (a global), shipped beside the pages
  mermaidReady = mermaidReady || new Promise((resolve, reject) => {
    const script = h("script", { src: "/assets/vendor/mermaid.min.js" });
    script.addEventListener("load", () => {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
      resolve(window.mermaid);
    });
    script.addEventListener("error", () => reject(new Error("mermaid did not load")));
    document.head.append(script);
  });
  return mermaidReady;
}

async function postYaml(path, text, params = {}) {
  const query = new URLSearchParams(params).toString();
  const headers = { "Content-Type": "application/yaml", Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(query ? `${path}?${query}` : path, { method: "POST", headers, body: text });
  const data = await response.json().catch(() => ({ title: response.statusText }));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function problemList(problems, jump) {
  if (!problems.length) return h("p", { class: "ok" }, W("没有问题。", "No problems."));
  return h("ul", { class: "problems" }, problems.map((p) =>
    h("li", { class: p.severity },
      h("button", { type: "button", class: "link-button", onclick: () => jump(p.line, p.col) },
        `${p.line}:${p.col}`),
      " ", h("strong", {}, p.severity === "error" ? W("错误", "error") : W("警告", "warning")), " ",
      `${p.message} [${p.rule}]`, p.hint ? h("div", { class: "hint" }, p.hint) : null)));
}

function changeList(review) {
  if (!review.deployed) return h("p", {}, W("尚未部署：这是新流程。", "Not deployed yet: a new process."));
  if (!review.changes.length) return h("p", {}, W("与已部署版本相同。", "The same as the deployed version."));
  return h("ul", { class: "changes" }, review.changes.map((c) =>
    h("li", { class: c.kind }, h("code", {}, `${c.kind} ${c.what} ${c.id}`), ": ", c.detail)));
}

function whatIfTable(result) {
  const rows = result.changes.deadlines.filter((d) => d.breach_change !== 0 || d.old_rule !== d.new_rule);
  if (!rows.length) return h("p", {}, W("模拟中超时次数没有变化。", "No change in breaches in the simulation."));
  const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
  return h("div", { class: "table-wrap" }, h("table", { id: "what-if-table" },
    h("caption", {}, W(`模拟 ${result.old.cases} 个案件：已部署 → 草稿`, `${result.old.cases} simulated cases: deployed → draft`)),
    h("thead", {}, h("tr", {}, [W("时限", "Deadline"), W("规则", "Rule"), W("超时", "Breaches"), W("按时率", "On time")]
      .map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((d) => h("tr", { "data-deadline": d.id },
      h("td", {}, d.id),
      h("td", {}, d.old_rule === d.new_rule ? d.new_rule : `${d.old_rule} → ${d.new_rule}`),
      h("td", {}, `${d.old_breaches} → ${d.new_breaches} (${d.breach_change > 0 ? "+" : ""}${d.breach_change})`),
      h("td", {}, `${pct(d.old_rate)} → ${pct(d.new_rate)}`))))));
}

export async function render(main, ctx) {
  const processes = await api("/v1/processes");
  const schema = await api("/v1/schemas/process");
  const chosen = ctx.params[0] || (processes[0] && processes[0].id);
  const selectId = uid("process");
  const heading = h("h1", { tabindex: "-1" }, W("流程工作室", "Process studio"));
  const select = h("select", { id: selectId },
    processes.map((p) => h("option", { value: p.id, selected: p.id === chosen }, `${pick(p.title, p.title_en)} (${p.id} v${p.version})`)));
  select.addEventListener("change", () => ctx.go(`/studio/${encodeURIComponent(select.value)}`));
  const editorBox = h("div", { class: "studio-editor", id: "studio-editor" });
  const problems = h("section", { class: "card", id: "studio-problems", "aria-label": W("问题", "Problems") });
  const diagram = h("section", { class: "card studio-diagram", id: "studio-diagram", "aria-label": W("流程图", "Diagram") });
  const changes = h("section", { class: "card", id: "studio-changes", "aria-label": W("变更", "Changes") });
  const whatIf = h("section", { class: "card", id: "studio-what-if", "aria-label": W("假设分析", "What-if") });
  const whatIfButton = h("button", { type: "button", class: "secondary", id: "run-what-if" }, W("运行假设分析", "Run what-if"));
  const publishButton = h("button", { type: "button", class: "primary", id: "publish", disabled: true }, W("发布", "Publish"));
  const verdict = h("p", { id: "publish-verdict", role: "status" });
  replace(main, heading,
    h("div", { class: "card filters" }, h("label", { for: selectId }, W("流程", "Process")), select),
    h("div", { class: "studio" },
      h("div", { class: "studio-left" }, editorBox, problems),
      h("div", { class: "studio-right" }, diagram,
        h("div", { class: "card" }, publishButton, " ", whatIfButton, verdict), changes, whatIf)));

  const kit = await editorKit();
  const source = chosen ? (await api(`/v1/processes/${encodeURIComponent(chosen)}`)).source : "";
  let timer = null;
  let generation = 0;
  let stopped = false;
  const view = kit.createEditor(editorBox, {
    text: source,
    schema,
    label: W("流程 YAML", "Process YAML"),
    onChange: () => {
      clearTimeout(timer);
      timer = setTimeout(judge, DEBOUNCE_MS);
    },
  });
  // A contenteditable is reachable by Tab already; saying so lets axe (and other checkers) see that the
  // editor's scrolling region has keyboard access.
  view.contentDOM.setAttribute("tabindex", "0");
  editorBox.cmView = view; // for scripted editing (the browser tests select text through it, then type)
  const jump = (line, column) => kit.jumpTo(view, line, column);

  async function drawDiagram(text) {
    const mermaid = await loadMermaid();
    try {
      const { svg } = await mermaid.render(uid("diagram"), text);
      // Parsed as HTML, not XML: Mermaid's labels hold HTML (<br>) that an XML parser refuses, and it would
      // draw its parse error into the page. DOMParser runs no script either way.
      const drawn = new DOMParser().parseFromString(svg, "text/html").body.querySelector("svg");
      replace(diagram, h("h2", {}, W("流程图", "Diagram")), drawn ? document.importNode(drawn, true) : null);
    } catch (error) {
      replace(diagram, h("h2", {}, W("流程图", "Diagram")), h("p", { class: "error" }, String(error.message || error)));
    }
  }

  async function judge() {
    const mine = ++generation;
    const text = kit.textOf(view);
    let review;
    try {
      review = await postYaml("/v1/drafts", text, { file: `${chosen || "draft"}.yaml` });
    } catch (error) {
      ctx.say(error.message, { error: true });
      return;
    }
    if (stopped || mine !== generation) return; // a newer edit is being judged
    kit.showProblems(view, review.problems);
    replace(problems, h("h2", {}, W(`问题 (${review.problems.length})`, `Problems (${review.problems.length})`)),
      problemList(review.problems, jump));
    replace(changes, h("h2", {}, W("与已部署版本相比", "Against the deployed version")), changeList(review));
    publishButton.disabled = !review.publishable;
    verdict.textContent = review.publishable ? W("可以发布。", "Ready to publish.") : review.why_not || "";
    if (review.mermaid) await drawDiagram(review.mermaid);
  }

  whatIfButton.addEventListener("click", async () => {
    whatIfButton.disabled = true;
    replace(whatIf, h("h2", {}, W("假设分析", "What-if")), h("p", { class: "loading" }, W("模拟中…", "Simulating…")));
    try {
      const result = await postYaml("/v1/drafts/what-if", kit.textOf(view), { cases: 200 });
      replace(whatIf, h("h2", {}, W("假设分析", "What-if")), whatIfTable(result),
        h("ul", {}, result.headlines.map((line) => h("li", {}, line))));
    } catch (error) {
      replace(whatIf, h("h2", {}, W("假设分析", "What-if")), h("p", { class: "error", role: "alert" }, error.message));
    } finally {
      whatIfButton.disabled = false;
    }
  });

  publishButton.addEventListener("click", async () => {
    try {
      const done = await postYaml("/v1/processes", kit.textOf(view), { file: `${chosen}.yaml` });
      ctx.say(W(`已发布 ${done.id} 第 ${done.version} 版。`, `Published ${done.id} version ${done.version}.`));
      ctx.go(`/studio/${encodeURIComponent(done.id)}`);
    } catch (error) {
      ctx.say(error.message, { error: true });
    }
  });

  await judge();
  return () => {
    stopped = true;
    clearTimeout(timer);
    view.destroy();
  };
}
