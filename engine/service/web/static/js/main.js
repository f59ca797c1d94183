// The pages' router: the path picks a view (views/*.js), each view renders into <main> and returns a
// function that stops what it started (its polling). Links marked data-link change the view without a
// reload; a path typed or opened from a WeCom or DingTalk message loads the same shell and lands here.
import { api, ApiError, request, setToken, token } from "./api.js";
import { h, replace } from "./dom.js";
import { applyLang, lang, setLang, t } from "./i18n.js";
import * as caseView from "./views/case.js";
import * as loginView from "./views/login.js";
import * as newView from "./views/new.js";
import * as queueView from "./views/queue.js";
import * as reportView from "./views/report.js";
import * as studioView from "./views/studio.js";

const ROUTES = [
  { pattern: /^\/login$/, view: loginView, open: true },
  { pattern: /^\/(queue)?$/, view: queueView, nav: "/queue" },
  { pattern: /^\/new$/, view: newView, nav: "/new" },
  { pattern: /^\/cases\/([^/]+)$/, view: caseView },
  { pattern: /^\/report$/, view: reportView, nav: "/report" },
  { pattern: /^\/studio(?:\/([^/]+))?$/, view: studioView, nav: "/studio" },
];
const NAV = [["/queue", "queue"], ["/new", "new_case"], ["/report", "report"], ["/studio", "studio"]];
// A manager who holds no other role reads every case and the report but opens no case.
const shows = (who, path) => !(path === "/new" && who.manager && who.roles.every((role) => role === "manager"));
// Pages served under another Content-Security-Policy: reached by a real load, not in-page navigation.
const OWN_POLICY = new Set(["/studio"]);

let stop = () => {};
let me = null;

export function say(text, { error = false } = {}) {
  const box = document.getElementById("status");
  box.className = error ? "status error" : "status";
  box.textContent = text;
}

export function go(path, options = {}) {
  history.pushState(null, "", path);
  render(options);
}

// The poll interval of the pages in milliseconds (5 s; a test may set sessionStorage "cf.pollMs").
export function pollMs() {
  const chosen = Number(sessionStorage.getItem("cf.pollMs"));
  return chosen > 0 ? chosen : 5000;
}

async function whoAmI() {
  if (me) return me;
  if (!token()) return null; // not logged in in this tab: no request that can only answer 401
  try {
    me = await api("/v1/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
  return me;
}

function chrome(route) {
  document.title = `${t("app")} complaintflow`;
  document.getElementById("brand").textContent = t("app");
  document.getElementById("skip-link").textContent = t("skip");
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav"));
  replace(nav, me ? NAV.filter(([path]) => shows(me, path)).map(([path, key]) => h("a", {
    href: path, "data-link": !OWN_POLICY.has(path), "aria-current": route && route.nav === path ? "page" : undefined,
  }, t(key))) : []);
  const switcher = document.getElementById("lang-switch");
  switcher.textContent = t("switch");
  switcher.lang = lang() === "en" ? "zh-CN" : "en";
  const out = document.getElementById("log-out");
  out.textContent = t("log_out");
  out.hidden = !me;
  document.getElementById("who").textContent = me ? me.name : "";
}

export async function render({ keepStatus = false } = {}) {
  stop();
  stop = () => {};
  applyLang();
  if (!keepStatus) say("");
  const main = document.getElementById("main");
  const path = location.pathname;
  const route = ROUTES.find((r) => r.pattern.test(path));
  try {
    if (route && !route.open && !(await whoAmI())) {
      chrome(route);
      say(t("need_login"));
      history.replaceState(null, "", `/login?next=${encodeURIComponent(path + location.search)}`);
      stop = (await loginView.render(main, context([]))) || (() => {});
      return;
    }
    chrome(route);
    if (!route) {
      replace(main, h("h1", {}, t("not_found")));
      return;
    }
    const match = path.match(route.pattern);
    stop = (await route.view.render(main, context(match.slice(1)))) || (() => {});
  } catch (error) {
    replace(main, h("h1", {}, t("error", { detail: error.message })));
  }
}

function context(params) {
  return { params, me, go, say, pollMs, loggedIn: (who) => { me = who; } };
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(link.getAttribute("href"));
});

window.addEventListener("popstate", () => render());

window.addEventListener("cf:unauthenticated", () => {
  setToken(null);
  me = null;
  const here = location.pathname + location.search;
  if (location.pathname !== "/login") go(`/login?next=${encodeURIComponent(here)}`);
});

document.getElementById("lang-switch").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  render({ keepStatus: false });
});

document.getElementById("log-out").addEventListener("click", async () => {
  try {
    if (token()) await request("/v1/sessions", { method: "DELETE" });
  } catch {
    // the session may have expired already; logging out locally is what matters
  }
  setToken(null);
  me = null;
  go("/login");
  say(t("logged_out"));
});

render();
