// "Forgot password": ask for a link (#/forgot), then choose a new password with it
// (#/reset/<token>, the link in the mail; the token stays in the fragment, so it never
// reaches a server log or a Referer).
import { h, field, messageBox, showErrors, clearErrors, busy } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";

function card(...children) {
  return h("section", { class: "card auth-card" }, ...children);
}

function backToLogin() {
  return h("p", { class: "auth-switch" }, h("a", { href: "#/login", text: t("recovery.to_login") }));
}

export async function forgotView(root) {
  const box = messageBox("error");
  const login = h("input", { name: "login", type: "text", autocomplete: "username", maxLength: 254, required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", text: t("recovery.send") });
  const form = h("form", { class: "stack", id: "forgot-form", novalidate: true },
    box, field(t("login.login"), login, { name: "login", required: true }), submit);
  const section = card(h("h1", { text: t("recovery.forgot_title") }),
    h("p", { class: "muted", text: t("recovery.forgot_intro") }), form, backToLogin());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    busy(submit, true);
    try {
      await api.post("/auth/password-reset", { login: login.value.trim() }, { auth: false });
      section.replaceChildren(h("h1", { text: t("recovery.sent_title") }),
        h("p", { class: "msg msg-ok", role: "status", id: "forgot-sent", text: t("recovery.sent") }),
        backToLogin());
    } catch (err) {
      busy(submit, false);
      showErrors(form, box, err);
    }
  });
  root.append(section);
  login.focus();
}

export async function resetView(root, ctx) {
  const token = ctx.params[0];
  const box = messageBox("error");
  const password = h("input", { name: "new_password", type: "password", autocomplete: "new-password", minLength: 8, maxLength: 128, required: true });
  const again = h("input", { name: "again", type: "password", autocomplete: "new-password", maxLength: 128, required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", text: t("recovery.set") });
  const form = h("form", { class: "stack", id: "reset-form", novalidate: true },
    box,
    field(t("recovery.new_password"), password, { name: "new_password", required: true, hint: t("register.password_hint") }),
    field(t("recovery.again"), again, { name: "again", required: true }),
    submit);
  const section = card(h("h1", { text: t("recovery.reset_title") }), form, backToLogin());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    if (password.value !== again.value) {
      showErrors(form, box, { message: t("recovery.mismatch"), details: { fields: { again: [t("recovery.mismatch")] } } });
      return;
    }
    busy(submit, true);
    try {
      await api.post("/auth/password-reset/confirm", { token, new_password: password.value }, { auth: false });
      if (api.signedIn()) await api.logout();  // every session of the account has ended
      section.replaceChildren(h("h1", { text: t("recovery.done_title") }),
        h("p", { class: "msg msg-ok", role: "status", id: "reset-done", text: t("recovery.done") }),
        h("p", { class: "auth-switch" }, h("a", { href: "#/login", class: "btn", text: t("recovery.to_login") })));
    } catch (err) {
      busy(submit, false);
      showErrors(form, box, err);
    }
  });
  root.append(section);
  password.focus();
}
