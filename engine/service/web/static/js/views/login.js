// Log in with a user id and password (POST /v1/sessions); the session token is kept in sessionStorage.
import { api, ApiError, setToken } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { t } from "../i18n.js";

export async function render(main, ctx) {
  const userId = uid("user");
  const passwordId = uid("password");
  const alert = h("div", { role: "alert" });
  const form = h("form", { class: "card", novalidate: true },
    h("label", { for: userId }, t("user")),
    h("input", { id: userId, name: "user", autocomplete: "username", required: true, autocapitalize: "off" }),
    h("label", { for: passwordId }, t("password")),
    h("input", { id: passwordId, name: "password", type: "password", autocomplete: "current-password", required: true }),
    alert,
    h("button", { type: "submit", class: "primary" }, t("log_in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(alert);
    try {
      const session = await api("/v1/sessions", {
        method: "POST", body: { user: form.user.value.trim(), password: form.password.value },
      });
      setToken(session.token);
      ctx.loggedIn(await api("/v1/me"));
      const next = new URLSearchParams(location.search).get("next");
      ctx.go(next && next.startsWith("/") && !next.startsWith("//") ? next : "/queue");
    } catch (error) {
      const detail = error instanceof ApiError ? error.message : String(error);
      replace(alert, h("p", { class: "alert" }, t("login_failed", { detail })));
    }
  });
  replace(main, h("h1", {}, t("login_title")), form);
  form.user.focus();
}
