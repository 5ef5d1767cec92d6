// What every page of one patient starts with: who the patient is.

import {h} from "../dom.js";
import {ageInDays, humanName} from "../format.js";
import {formatDate, t} from "../i18n.js";

export function ageText(birthDate, today = new Date().toISOString()) {
  if (!birthDate) return "";
  const days = ageInDays(birthDate, today);
  if (days < 60) return t("age.days", {n: days});
  const months = Math.floor(days / 30.4375);
  if (months < 24) return t("age.months", {n: months});
  return t("age.years", {n: Math.floor(months / 12)});
}

export async function patientHeader(ctx, patientId, title) {
  const patient = await ctx.fhir.read("Patient", patientId);
  const facts = [t(`gender.${patient.gender || "unknown"}`)];
  if (patient.birthDate) {
    facts.push(t("patient.born", {date: formatDate(patient.birthDate),
                                  age: ageText(patient.birthDate)}));
  }
  const ids = (patient.identifier || []).map(i => i.value).filter(Boolean);
  if (ids.length) facts.push(t("patient.ids", {ids: ids.join(", ")}));
  return {patient, element: h("div", {class: "patient-header"},
    h("h1", {}, title),
    h("p", {class: "patient-name"}, h("strong", {}, humanName(patient)), " · ",
      facts.join(" · ")))};
}

export function printButton() {
  return h("button", {type: "button", class: "no-print", onclick: () => window.print()},
           t("print"));
}
