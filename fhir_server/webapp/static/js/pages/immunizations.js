// Immunization card: each series' next dose with its due and overdue dates from
// Patient/[id]/$immds-forecast (HL7 ImmDS), overdue first; and the doses given.

import {h, replace} from "../dom.js";
import {codeText, parameters, valueOf} from "../format.js";
import {formatDate, t} from "../i18n.js";
import {patientHeader, printButton} from "./common.js";

const R4_STATUS = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status";
const IMMDS_STATUS = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastStatus";
const ORDER = ["overdue", "due", "upcoming", "conditional", "complete", "agedOut",
               "notRecommended"];
const DATES = {earliest: "30981-5", due: "30980-7", overdue: "59778-1", latest: "59777-3"};

function state(recommendation) {
  const codings = recommendation.forecastStatus?.coding || [];
  const r4 = codings.find(c => c.system === R4_STATUS)?.code;
  if (r4) return r4;
  const immds = codings.find(c => c.system === IMMDS_STATUS)?.code;
  return immds === "notComplete" ? "upcoming" : immds || "upcoming";
}

function date(recommendation, which) {
  return (recommendation.dateCriterion || []).find(
    d => (d.code?.coding || []).some(c => c.code === DATES[which]))?.value;
}

export async function render(ctx, view, patientId) {
  const {element} = await patientHeader(ctx, patientId, t("immunizations.title"));
  const [forecast, given] = await Promise.all([
    ctx.fhir.request(`Patient/${patientId}/$immds-forecast`),
    ctx.fhir.search("Immunization", {patient: patientId, _sort: "date", _count: 200}, 500)]);
  const recommendation = valueOf(parameters(forecast, "recommendation")[0]) || {};
  const rows = (recommendation.recommendation || []).map(r => ({r, state: state(r)}))
    .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state)
      || (date(a.r, "due") || "").localeCompare(date(b.r, "due") || ""));
  replace(view, element, printButton(),
    h("div", {class: "table-scroll"}, h("table", {id: "immunization-card"},
      h("caption", {}, t("immunizations.caption", {date: formatDate(recommendation.date)})),
      h("thead", {}, h("tr", {}, ["immunizations.series", "immunizations.status",
        "immunizations.next", "immunizations.due", "immunizations.overdue"]
        .map(k => h("th", {scope: "col"}, t(k))))),
      h("tbody", {}, rows.map(({r, state: s}) => h("tr", {class: `dose-${s}`,
                                                         "data-status": s},
        h("th", {scope: "row"}, r.series || codeText(r.targetDisease),
          r.series ? h("span", {class: "target"}, codeText(r.targetDisease)) : null),
        h("td", {}, h("span", {class: `badge status-${s}`}, t(`forecast.${s}`))),
        h("td", {}, r.doseNumberPositiveInt ? t("immunizations.dose", {
          number: r.doseNumberPositiveInt, of: r.seriesDosesPositiveInt ?? "?",
          vaccine: codeText((r.vaccineCode || [])[0])}) : ""),
        h("td", {}, formatDate(date(r, "due"))),
        h("td", {}, formatDate(date(r, "overdue")))))))),
    h("h2", {}, t("immunizations.given")),
    given.length === 0 ? h("p", {}, t("immunizations.noneGiven")) : h("ul", {class: "given"},
      given.map(dose => h("li", {},
        h("time", {}, formatDate(dose.occurrenceDateTime)), " ",
        h("a", {href: `#/patient/${patientId}/item/Immunization/${dose.id}`},
          codeText(dose.vaccineCode)),
        dose.status !== "completed" ? ` (${dose.status})` : ""))));
}
