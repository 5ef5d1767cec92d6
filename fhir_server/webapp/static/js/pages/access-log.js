// Who looked at my record: the AuditEvents about the patient (docs/consent.md, "The audit
// trail"): who, when, what, why, with what outcome; break-the-glass accesses highlighted.

import {h, replace} from "../dom.js";
import {displayName} from "../format.js";
import {formatDateTime, t} from "../i18n.js";
import {patientHeader} from "./common.js";

function requestor(event) {
  const agent = (event.agent || []).find(a => a.requestor) || (event.agent || [])[0] || {};
  return agent.who?.reference || agent.who?.identifier?.value || "";
}

function breakGlass(event) {
  const entity = (event.entity || []).find(e => e.name === "break-glass");
  if (!entity) return null;
  return (entity.detail || []).find(d => d.type === "break-glass-reason")?.valueString || "";
}

function decision(event) {
  return (event.outcomeDesc || "").split(";")[0].trim() || "permit";
}

// The resource types touched: the resources decided, else the type of the request URL
// the event's outcomeDesc names ("permit; GET /fhir/Observation?... -> 200").
function what(event) {
  const resources = (event.entity || []).map(e => e.what?.reference)
    .filter(reference => reference && !reference.startsWith("Patient/"));
  const types = [...new Set(resources.map(r => r.split("/").slice(-2)[0]))];
  const requested = /\/fhir\/([A-Z][A-Za-z]+)/.exec(event.outcomeDesc || "");
  if (!types.length && requested) types.push(requested[1]);
  const action = t(`audit.action.${(event.subtype || [])[0]?.code || "other"}`);
  return types.length ? `${action}: ${types.map(x => t(`type.${x}`)).join(", ")}` : action;
}

export async function render(ctx, view, patientId) {
  const {element} = await patientHeader(ctx, patientId, t("access.title"));
  const events = await ctx.fhir.search("AuditEvent",
                                       {patient: patientId, _sort: "-date", _count: 100}, 300);
  const who = {};
  await Promise.all([...new Set(events.map(requestor))].filter(r => r.includes("/"))
    .map(async reference => {
      const [type, id] = reference.split("/").slice(-2);
      who[reference] = await ctx.fhir.read(type, id).then(displayName, () => reference);
    }));
  const mine = event => ctx.user.reference && requestor(event) === ctx.user.reference;
  const body = h("tbody", {});
  const toggle = h("input", {type: "checkbox", id: "show-own", onchange: () => fill()});

  function fill() {
    const shown = events.filter(e => toggle.checked || !mine(e));
    replace(body, shown.length === 0
      ? h("tr", {}, h("td", {colspan: 5}, t("access.none")))
      : shown.map(event => {
        const reason = breakGlass(event);
        const outcome = reason !== null ? "override" : decision(event);
        return h("tr", {class: reason !== null ? "break-glass" : `outcome-${outcome}`},
          h("td", {}, formatDateTime(event.recorded)),
          h("td", {class: "who"}, mine(event) ? t("access.you")
                                  : who[requestor(event)] || requestor(event)),
          h("td", {}, what(event)),
          h("td", {}, (event.purposeOfEvent || []).flatMap(p => p.coding || [])
            .map(c => t(`purpose.${c.code}`)).join(", ")),
          h("td", {}, reason !== null
            ? h("strong", {}, t("access.breakGlass", {reason})) : t(`audit.outcome.${outcome}`)));
      }));
  }

  fill();
  replace(view, element,
    h("p", {}, t("access.intro")),
    h("p", {class: "no-print"}, h("label", {}, toggle, " ", t("access.showOwn"))),
    h("div", {class: "table-scroll"}, h("table", {id: "access-log"},
      h("caption", {}, t("access.caption", {count: events.length})),
      h("thead", {}, h("tr", {}, ["access.when", "access.who", "access.what", "access.why",
                                  "access.outcome"].map(k => h("th", {scope: "col"}, t(k))))),
      body)));
}
