// Sign in and register.
import { h, field, messageBox, showErrors, clearErrors, busy } from "../dom.js";
import { t, getLang } from "../i18n.js";
import * as api from "../api.js";

export async function loginView(root, ctx) {
  const box = messageBox("error");
  const loginInput = h("input", { name: "login", type: "text", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", text: t("login.submit") });
  const form = h("form", { class: "stack", id: "login-form", novalidate: true },
    box,
    field(t("login.login"), loginInput, { name: "login", required: true }),
    field(t("login.password"), password, { name: "password", required: true }),
    submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    busy(submit, true, t("login.busy"));
    try {
      await api.login(loginInput.value.trim(), password.value);
      api.forgetCaches();
      const next = ctx.query.get("next") || "";
      const safe = /^\/(tickets|admin)\b/.test(next) ? next : "/";  // "/": the role's home
      location.hash = `#${safe}`;
    } catch (err) {
      busy(submit, false);
      password.value = "";
      showErrors(form, box, err);
      if (!form.querySelector(".has-error")) password.focus();
    }
  });
  root.append(h("section", { class: "card auth-card" },
    h("h1", { text: t("login.title") }),
    h("p", { class: "muted", text: t("login.subtitle") }),
    form,
    h("p", { class: "auth-switch" }, h("a", { href: "#/forgot", id: "forgot-link", text: t("recovery.forgot") })),
    h("p", { class: "auth-switch" }, t("login.no_account"), " ",
      h("a", { href: "#/register", text: t("login.register") }))));
  loginInput.focus();
}

export async function registerView(root) {
  const box = messageBox("error");
  const inputs = {
    name: h("input", { name: "name", autocomplete: "name", maxLength: 100, required: true }),
    phone: h("input", { name: "phone", type: "tel", autocomplete: "tel" }),
    email: h("input", { name: "email", type: "email", autocomplete: "email" }),
    password: h("input", { name: "password", type: "password", autocomplete: "new-password", minLength: 8, maxLength: 128, required: true }),
    position: h("input", { name: "position", autocomplete: "organization-title", maxLength: 100 }),
    company_name: h("input", { name: "company_name", autocomplete: "organization", maxLength: 200, required: true }),
    national_id: h("input", { name: "national_id", autocomplete: "off", maxLength: 20 }),
  };
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", text: t("register.submit") });
  const form = h("form", { class: "stack", id: "register-form", novalidate: true },
    box,
    field(t("register.name"), inputs.name, { name: "name", required: true }),
    field(t("register.phone"), inputs.phone, { name: "phone", hint: t("register.phone_or_email") }),
    field(t("register.email"), inputs.email, { name: "email" }),
    field(t("register.password"), inputs.password, { name: "password", required: true, hint: t("register.password_hint") }),
    field(t("register.position"), inputs.position, { name: "position" }),
    field(t("register.company_name"), inputs.company_name, { name: "company_name", required: true }),
    field(t("register.national_id"), inputs.national_id, { name: "national_id", hint: t("register.national_id_hint") }),
    submit);
  const card = h("section", { class: "card auth-card" },
    h("h1", { text: t("register.title") }),
    h("p", { class: "muted", text: t("register.intro") }),
    form,
    h("p", { class: "auth-switch" }, t("register.have_account"), " ",
      h("a", { href: "#/login", text: t("register.to_login") })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const body = { language: getLang() };
    for (const [k, el] of Object.entries(inputs)) {
      const v = k === "password" ? el.value : el.value.trim();
      if (v) body[k] = v;
    }
    busy(submit, true);
    try {
      await api.post("/auth/register", body, { auth: false });
      card.replaceChildren(
        h("h1", { text: t("register.done_title") }),
        h("p", { class: "msg msg-ok", role: "status", id: "register-done", text: t("register.done") }),
        h("p", { class: "auth-switch" }, h("a", { href: "#/login", class: "btn", text: t("register.to_login") })));
    } catch (err) {
      busy(submit, false);
      showErrors(form, box, err);
    }
  });
  root.append(card);
  inputs.name.focus();
}
