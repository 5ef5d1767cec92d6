// My consents: who can see what now; allow or withhold an Organization's or a
// Practitioner's access to chosen kinds of data, for a period and a purpose; revoke.
// Each action writes a Consent (R4 consent.html, scope patient-privacy) in the shape the
// server's consent engine reads (docs/consent.md), effective on the next request.

import {h, replace, status} from "../dom.js";
import {displayName} from "../format.js";
import {formatDate, t} from "../i18n.js";
import {patientHeader} from "./common.js";

const ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const RESOURCE_TYPES = "http://hl7.org/fhir/resource-types";
// kind of data -> the resource types it covers (Consent.provision.class)
export const DATA_KINDS = {
  details: ["Patient"],
  encounters: ["Encounter"],
  results: ["Observation", "DiagnosticReport"],
  conditions: ["Condition"],
  medications: ["MedicationRequest", "MedicationStatement"],
  immunizations: ["Immunization", "ImmunizationRecommendation"],
  documents: ["DocumentReference"],
  procedures: ["Procedure"],
};
const PURPOSES = ["TREAT", "CAREMGT", "ETREAT", "PUBHLTH", "HRESCH", "HPAYMT"];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function consentResource(patientId, {allow, actor, types, start, end, purpose}) {
  const provision = {
    period: {start, end},
    actor: [{role: {coding: [{system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                              code: "IRCP"}]},
             reference: {reference: actor.reference, display: actor.display}}],
    action: [{coding: [{system: "http://terminology.hl7.org/CodeSystem/consentaction",
                        code: "access"}]}],
  };
  if (purpose) provision.purpose = [{system: ACT_REASON, code: purpose}];
  if (types.length) provision.class = types.map(code => ({system: RESOURCE_TYPES, code}));
  return {
    resourceType: "Consent", status: "active",
    scope: {coding: [{system: "http://terminology.hl7.org/CodeSystem/consentscope",
                      code: "patient-privacy"}]},
    category: [{coding: [{system: "http://loinc.org", code: "59284-0"}]}],
    patient: {reference: `Patient/${patientId}`},
    dateTime: new Date().toISOString(),
    performer: [{reference: `Patient/${patientId}`}],
    policyRule: {coding: [{system: ACT_CODE, code: allow ? "OPTIN" : "OPTOUT"}]},
    provision,
  };
}

function effect(consent) {
  const rule = (consent.policyRule?.coding || []).map(c => c.code);
  if (consent.provision?.type) return consent.provision.type === "permit" ? "allow" : "withhold";
  return rule.some(code => code.startsWith("OPTIN")) ? "allow" : "withhold";
}

function when(consent, today) {
  const period = consent.provision?.period || {};
  if (period.end && period.end.slice(0, 10) < today) return "expired";
  if (period.start && period.start.slice(0, 10) > today) return "later";
  return "now";
}

function kindsOf(consent) {
  const types = (consent.provision?.class || []).map(c => c.code);
  if (!types.length) return t("consent.everything");
  const kinds = Object.entries(DATA_KINDS).filter(([, list]) => list.some(x => types.includes(x)))
    .map(([kind]) => t(`data.${kind}`));
  const other = types.filter(x => !Object.values(DATA_KINDS).flat().includes(x));
  return [...kinds, ...other].join(", ");
}

async function names(ctx, consents) {
  const references = new Set(consents.flatMap(c => (c.provision?.actor || [])
    .map(a => a.reference?.reference).filter(Boolean)));
  const found = {};
  await Promise.all([...references].map(async reference => {
    const [type, id] = reference.split("/").slice(-2);
    found[reference] = await ctx.fhir.read(type, id).then(displayName, () => reference);
  }));
  return found;
}

function describe(consent, actorNames, today) {
  const actors = (consent.provision?.actor || []).map(a => a.reference?.reference
    ? actorNames[a.reference.reference] || a.reference.display : codeOf(a.role));
  const purposes = (consent.provision?.purpose || []).map(p => t(`purpose.${p.code}`));
  const period = consent.provision?.period || {};
  return t(`consent.${effect(consent)}`, {
    who: actors.length ? actors.join(", ") : t("consent.everyone"),
    what: kindsOf(consent),
    purpose: purposes.length ? purposes.join(", ") : t("purpose.any"),
    from: period.start ? formatDate(period.start) : "…",
    until: period.end ? formatDate(period.end) : "…",
  }) + (when(consent, today) !== "now" ? ` (${t(`consent.when.${when(consent, today)}`)})` : "");
}

function codeOf(concept) {
  return (concept?.coding || []).map(c => c.display || c.code).join(", ");
}

function actorPicker(ctx) {
  const results = h("div", {id: "actor-results", role: "radiogroup",
                            "aria-label": t("grant.choose")});
  const type = h("select", {id: "actor-type", name: "actorType"},
    ["Organization", "Practitioner"].map(x => h("option", {value: x}, t(`type.${x}`))));
  const name = h("input", {id: "actor-name", type: "search", autocomplete: "off"});
  async function find() {
    replace(results, status(t("loading")));
    try {
      const found = await ctx.fhir.search(type.value, {name: name.value.trim(), _count: 20}, 20);
      replace(results, found.length === 0 ? status(t("search.none")) : found.map((r, i) =>
        h("label", {class: "choice"}, h("input", {type: "radio", name: "actor", required: true,
          value: `${r.resourceType}/${r.id}`, "data-display": displayName(r), checked: i === 0}),
          " ", displayName(r))));
    } catch (error) {
      replace(results, status(t("error", {message: error.message}), "error"));
    }
  }
  return h("fieldset", {}, h("legend", {}, t("grant.who")),
    h("div", {class: "row"},
      h("div", {class: "field"}, h("label", {for: "actor-type"}, t("grant.kind")), type),
      h("div", {class: "field"}, h("label", {for: "actor-name"}, t("grant.name")), name),
      h("button", {type: "button", id: "actor-find", onclick: find}, t("grant.find"))),
    results);
}

function grantForm(ctx, patientId, done) {
  const today = new Date();
  const nextYear = new Date(today.getTime() + 365 * 86_400_000);
  const message = h("div", {"aria-live": "polite"});
  const form = h("form", {id: "grant-form", class: "card", onsubmit: async event => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=actor]:checked");
    if (!chosen) {
      replace(message, status(t("grant.needActor"), "error"));
      return;
    }
    const all = form.elements.everything.checked;
    const types = all ? [] : [...form.querySelectorAll("input[name=kind]:checked")]
      .flatMap(box => DATA_KINDS[box.value]);
    if (!all && types.length === 0) {
      replace(message, status(t("grant.needKind"), "error"));
      return;
    }
    const resource = consentResource(patientId, {
      allow: form.elements.effect.value === "allow",
      actor: {reference: chosen.value, display: chosen.dataset.display}, types,
      start: form.elements.start.value, end: form.elements.end.value,
      purpose: form.elements.purpose.value || null});
    try {
      await ctx.fhir.create(resource);
      await done();
    } catch (error) {
      replace(message, status(t("error", {message: error.message}), "error"));
    }
  }},
    h("h2", {}, t("grant.title")),
    h("fieldset", {}, h("legend", {}, t("grant.effect")),
      h("label", {class: "choice"}, h("input", {type: "radio", name: "effect", value: "allow",
                                               checked: true}), " ", t("grant.allow")),
      h("label", {class: "choice"}, h("input", {type: "radio", name: "effect",
                                               value: "withhold"}), " ", t("grant.withhold"))),
    actorPicker(ctx),
    h("fieldset", {}, h("legend", {}, t("grant.what")),
      h("label", {class: "choice"}, h("input", {type: "checkbox", name: "everything"}), " ",
        t("consent.everything")),
      Object.keys(DATA_KINDS).map(kind => h("label", {class: "choice"},
        h("input", {type: "checkbox", name: "kind", value: kind}), " ", t(`data.${kind}`)))),
    h("div", {class: "row"},
      h("div", {class: "field"}, h("label", {for: "start"}, t("grant.from")),
        h("input", {id: "start", name: "start", type: "date", required: true,
                    value: isoDay(today)})),
      h("div", {class: "field"}, h("label", {for: "end"}, t("grant.until")),
        h("input", {id: "end", name: "end", type: "date", required: true,
                    value: isoDay(nextYear)})),
      h("div", {class: "field"}, h("label", {for: "purpose"}, t("grant.purpose")),
        h("select", {id: "purpose", name: "purpose"},
          h("option", {value: ""}, t("purpose.any")),
          PURPOSES.map(code => h("option", {value: code, selected: code === "TREAT"},
                                 t(`purpose.${code}`)))))),
    message,
    h("button", {type: "submit", class: "primary", id: "grant-submit"}, t("grant.submit")));
  return form;
}

export async function render(ctx, view, patientId) {
  const {element} = await patientHeader(ctx, patientId, t("consents.title"));
  const consents = await ctx.fhir.search("Consent", {patient: patientId, _count: 100}, 500);
  const today = new Date().toISOString().slice(0, 10);
  const active = consents.filter(c => c.status === "active");
  const earlier = consents.filter(c => c.status !== "active");
  const actorNames = await names(ctx, consents);
  const reload = () => render(ctx, view, patientId).then(() => {
    view.querySelector("#consents-now")?.focus();
  });
  async function revoke(consent) {
    await ctx.fhir.update({...consent, status: "inactive"});
    await reload();
  }
  replace(view, element,
    h("section", {id: "consents-now", tabindex: "-1", "aria-labelledby": "now-title"},
      h("h2", {id: "now-title"}, t("consents.now")),
      h("p", {id: "consent-default"}, t(`consents.default.${ctx.config.consentDefault}`)),
      active.length === 0 ? h("p", {}, t("consents.none")) : h("ul", {class: "consents"},
        active.map(consent => h("li", {class: `consent ${effect(consent)}`,
                                       "data-id": consent.id},
          h("span", {class: "consent-text", id: `consent-${consent.id}`},
            describe(consent, actorNames, today)),
          h("button", {type: "button", class: "revoke", onclick: () => revoke(consent),
                       "aria-describedby": `consent-${consent.id}`},
            t("consents.revoke")))))),
    grantForm(ctx, patientId, reload),
    earlier.length ? h("details", {}, h("summary", {}, t("consents.earlier",
                                                        {count: earlier.length})),
      h("ul", {}, earlier.map(c => h("li", {}, `${t(`status.${c.status}`)}: `,
        describe(c, actorNames, today))))) : null);
}
