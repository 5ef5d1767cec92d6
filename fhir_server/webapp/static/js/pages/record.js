// My record: a timeline of encounters, results, medications, immunizations and documents;
// each item opens (pages/item.js).

import {h, replace} from "../dom.js";
import {observationValue, resourceDate, resourceTitle} from "../format.js";
import {formatDate, t} from "../i18n.js";
import {patientHeader} from "./common.js";

// kind -> the searches that fill it
const KINDS = {
  encounters: [["Encounter", {_sort: "-date"}]],
  results: [["Observation", {_sort: "-date"}], ["DiagnosticReport", {_sort: "-date"}]],
  conditions: [["Condition", {}]],
  medications: [["MedicationRequest", {}], ["MedicationStatement", {}]],
  immunizations: [["Immunization", {_sort: "-date"}]],
  documents: [["DocumentReference", {_sort: "-date"}]],
};
const PER_TYPE = 200;

async function load(ctx, patientId) {
  const searches = Object.entries(KINDS).flatMap(([kind, list]) => list.map(
    ([type, params]) => ctx.fhir.search(type, {patient: patientId, _count: 100, ...params},
                                        PER_TYPE)
      .then(found => found.map(resource => ({kind, resource})))
      .catch(error => (error.status === 403 ? [] : Promise.reject(error)))));
  const items = (await Promise.all(searches)).flat();
  return items.sort((a, b) => resourceDate(b.resource).localeCompare(resourceDate(a.resource)));
}

export async function render(ctx, view, patientId) {
  const own = ctx.user.patient === patientId;
  const {element} = await patientHeader(ctx, patientId, t(own ? "record.own" : "record.title"));
  const items = await load(ctx, patientId);
  const list = h("ol", {class: "timeline", id: "timeline"});
  const filters = h("fieldset", {class: "filters no-print"},
    h("legend", {}, t("record.show")),
    ["all", ...Object.keys(KINDS)].map(kind => h("label", {},
      h("input", {type: "radio", name: "kind", value: kind, checked: kind === "all",
                  onchange: () => fill(kind)}), " ", t(`kind.${kind}`))));

  function fill(kind) {
    const shown = items.filter(i => kind === "all" || i.kind === kind);
    replace(list, shown.length === 0 ? h("li", {}, t("record.empty")) : shown.map(
      ({kind: itemKind, resource}) => h("li", {class: `item kind-${itemKind}`},
        h("time", {datetime: resourceDate(resource).slice(0, 10)},
          formatDate(resourceDate(resource))),
        h("span", {class: "badge"}, t(`type.${resource.resourceType}`)),
        h("a", {href: `#/patient/${patientId}/item/${resource.resourceType}/${resource.id}`},
          resourceTitle(resource)),
        resource.resourceType === "Observation"
          ? h("span", {class: "value"}, observationValue(resource)) : null)));
  }

  fill("all");
  replace(view, element, filters,
          h("p", {class: "muted"}, t("record.count", {count: items.length})), list);
}
