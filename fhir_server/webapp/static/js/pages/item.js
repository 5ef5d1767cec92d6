// One item of the record, opened: its elements in words, and the FHIR JSON.

import {h, replace} from "../dom.js";
import {codeText, quantity, resourceDate, resourceTitle} from "../format.js";
import {formatDate, t} from "../i18n.js";

const SKIPPED = new Set(["resourceType", "id", "meta", "text", "subject", "patient",
                         "contained", "extension", "modifierExtension"]);

function readable(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(readable).filter(Boolean).join("; ");
  if (typeof value !== "object") {
    return /^\d{4}-\d{2}-\d{2}/.test(String(value)) ? formatDate(value) : String(value);
  }
  if ("coding" in value || ("text" in value && Object.keys(value).length === 1)) {
    return codeText(value);
  }
  if ("value" in value && ("unit" in value || "code" in value)) return quantity(value);
  if ("reference" in value || "display" in value) return value.display || value.reference;
  if ("start" in value || "end" in value) {
    return [formatDate(value.start), formatDate(value.end)].join(" – ");
  }
  if ("code" in value && "system" in value) return value.display || value.code;
  return Object.entries(value).map(([k, v]) => `${k}: ${readable(v)}`).join(", ");
}

export async function render(ctx, view, patientId, [type, id]) {
  const resource = await ctx.fhir.read(type, id);
  const rows = Object.entries(resource).filter(([name]) => !SKIPPED.has(name))
    .map(([name, value]) => [name, readable(value)]).filter(([, text]) => text);
  replace(view,
    h("p", {class: "no-print"}, h("a", {href: `#/patient/${patientId}/record`}, t("back"))),
    h("h1", {id: "item-title"}, resourceTitle(resource)),
    h("p", {class: "muted"}, t(`type.${type}`), " · ", formatDate(resourceDate(resource))),
    h("dl", {class: "facts"}, rows.flatMap(([name, text]) => [h("dt", {}, name),
                                                              h("dd", {}, text)])),
    h("details", {}, h("summary", {}, t("item.json")),
      h("pre", {class: "json"}, JSON.stringify(resource, null, 2))));
}
