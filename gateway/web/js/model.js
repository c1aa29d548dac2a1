// What the client needs to know about roles, and reading choices out of the OpenAPI document.

export const STAFF_ROLES = ["agent", "admin", "provider_admin", "engineer"];
export const DESK_ROLES = ["agent", "admin"];
// who may submit tickets: customers for themselves, the desk on a customer's behalf
export const CREATOR_ROLES = ["customer", "customer_admin", ...DESK_ROLES];
// who may manage webhooks: admins (all of them) and internal systems (their own)
export const WEBHOOK_ROLES = ["admin", "system"];
// who reads offers (the desk: all; provider admins answer their provider's)
export const OFFER_ROLES = ["provider_admin", ...DESK_ROLES];
// who manages engineers, their availability and certifications (the API: admins, provider admins)
export const REGISTRY_ROLES = ["provider_admin", "admin"];
// which kind of company an approved account belongs to (the server checks this too)
export const ROLE_COMPANY_KIND = {
  customer: "customer", customer_admin: "customer", provider_admin: "provider",
  engineer: "provider", agent: "vendor", admin: "vendor",
};
// transitions whose reason the server insists on
export const REASON_REQUIRED = new Set(["request_info", "reopen", "suspend"]);

export const isStaff = (user) => Boolean(user && STAFF_ROLES.includes(user.role));
export const isDesk = (user) => Boolean(user && DESK_ROLES.includes(user.role));
export const canCreate = (user) => Boolean(user && CREATOR_ROLES.includes(user.role));

function resolve(doc, s) {
  let cur = s;
  for (let i = 0; cur && cur.$ref && i < 5; i += 1) {
    cur = doc.components.schemas[cur.$ref.split("/").pop()];
  }
  return cur || {};
}

function expand(doc, s) {
  const top = resolve(doc, s);
  const props = {};
  for (const [k, v] of Object.entries(top.properties || {})) props[k] = resolve(doc, v);
  return { properties: props, required: top.required || [] };
}

/**
 * The JSON body schema of an operation, e.g. ("/api/v1/tickets", "post"), with the $refs of
 * its properties resolved. Found through the path, so component names do not matter.
 */
export function bodySchema(doc, path, method = "post") {
  const op = doc.paths[path] && doc.paths[path][method];
  const content = op && op.requestBody && op.requestBody.content;
  const s = content && content["application/json"] && content["application/json"].schema;
  return expand(doc, s || {});
}

/** A property's own schema expanded the same way (e.g. TicketCreate's environment). */
export function nested(doc, schema) { return expand(doc, schema || {}); }

/** Enum values of a query parameter, e.g. ("/api/v1/tickets", "status"). */
export function queryEnum(doc, path, param) {
  const op = doc.paths[path] && doc.paths[path].get;
  const p = op && (op.parameters || []).find((x) => x.in === "query" && x.name === param);
  if (!p) return [];
  const s = p.schema || {};
  return (s.items && s.items.enum) || s.enum || [];
}

/** Is there a POST route for this ticket action ("request_info" -> .../request-info)? */
export function actionPath(doc, action) {
  const seg = action.replace(/_/g, "-");
  const p = doc.paths[`/api/v1/tickets/{ticket_id}/${seg}`];
  return p && p.post ? seg : null;
}
