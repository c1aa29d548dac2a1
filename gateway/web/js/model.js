// What the client needs to know about roles, and reading choices out of the OpenAPI document.

export const STAFF_ROLES = ["agent", "admin", "provider_admin", "engineer"];
export const DESK_ROLES = ["agent", "admin"];
// which kind of company an approved account belongs to (the server checks this too)
export const ROLE_COMPANY_KIND = {
  customer: "customer", customer_admin: "customer", provider_admin: "provider",
  engineer: "provider", agent: "vendor", admin: "vendor",
};
// transitions whose reason the server insists on
export const REASON_REQUIRED = new Set(["request_info"]);

export const isStaff = (user) => Boolean(user && STAFF_ROLES.includes(user.role));
export const isDesk = (user) => Boolean(user && DESK_ROLES.includes(user.role));

function resolve(doc, s) {
  let cur = s;
  for (let i = 0; cur && cur.$ref && i < 5; i += 1) {
    cur = doc.components.schemas[cur.$ref.split("/").pop()];
  }
  return cur || {};
}

/** A component schema ("TicketCreate") with $refs of its properties resolved. */
export function component(doc, name) {
  const s = resolve(doc, doc.components.schemas[name]);
  const props = {};
  for (const [k, v] of Object.entries(s.properties || {})) props[k] = resolve(doc, v);
  return { properties: props, required: s.required || [] };
}

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
