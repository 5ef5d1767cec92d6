// Reading FHIR R4 data types for people: names, codes, quantities, dates of a resource.

import {formatDate, formatNumber, t} from "./i18n.js";

export function humanName(resource) {
  const name = (resource?.name || [])[0];
  if (!name) return resource?.id ? `${resource.resourceType}/${resource.id}` : "";
  if (typeof name === "string") return name; // Organization.name
  return name.text || [...(name.prefix || []), ...(name.given || []), name.family]
    .filter(Boolean).join(" ");
}

export function displayName(resource) {
  if (!resource) return "";
  if (typeof resource.name === "string") return resource.name;
  return humanName(resource);
}

export function codeText(concept) {
  if (!concept) return "";
  if (concept.text) return concept.text;
  const coding = (concept.coding || []).find(c => c.display) || (concept.coding || [])[0];
  return coding ? coding.display || coding.code : "";
}

export function hasCode(concept, system, codes) {
  return (concept?.coding || []).some(c => c.system === system && codes.includes(c.code));
}

export function quantity(value) {
  if (!value || value.value === undefined) return "";
  return `${formatNumber(Number(value.value), 2)} ${value.unit || value.code || ""}`.trim();
}

export function observationValue(observation) {
  if (observation.valueQuantity) return quantity(observation.valueQuantity);
  if (observation.valueCodeableConcept) return codeText(observation.valueCodeableConcept);
  if (observation.valueString) return observation.valueString;
  if (observation.valueBoolean !== undefined) return t(observation.valueBoolean ? "yes" : "no");
  if (observation.valueDateTime) return formatDate(observation.valueDateTime);
  if (observation.component) {
    return observation.component.map(c => `${codeText(c.code)} ${observationValue(c)}`)
      .join(", ");
  }
  return "";
}

// The clinical date of a resource (what its timeline sorts by).
export function resourceDate(resource) {
  return resource.effectiveDateTime || resource.effectivePeriod?.start || resource.issued
    || resource.period?.start || resource.occurrenceDateTime || resource.authoredOn
    || resource.date || resource.onsetDateTime || resource.recordedDate
    || resource.performedDateTime || resource.performedPeriod?.start
    || resource.meta?.lastUpdated || "";
}

export function resourceTitle(resource) {
  switch (resource.resourceType) {
    case "Encounter":
      return codeText((resource.type || [])[0]) || codeText(resource.serviceType)
        || t("type.Encounter");
    case "Immunization":
      return codeText(resource.vaccineCode);
    case "MedicationRequest":
    case "MedicationStatement":
      return codeText(resource.medicationCodeableConcept)
        || resource.medicationReference?.display || t(`type.${resource.resourceType}`);
    case "DocumentReference":
      return resource.description || codeText(resource.type) || t("type.DocumentReference");
    default:
      return codeText(resource.code) || t(`type.${resource.resourceType}`);
  }
}

export function ageInDays(birthDate, day) {
  const start = Date.parse(String(birthDate).slice(0, 10));
  const end = Date.parse(String(day).slice(0, 10));
  return Math.round((end - start) / 86_400_000);
}

export function weeksAndDays(days) {
  return t("weeksDays", {weeks: Math.floor(days / 7), days: days % 7});
}

export function parameters(resource, name) {
  return (resource?.parameter || []).filter(p => p.name === name);
}

// The parts of one Parameters.parameter as {name: value} (value[x] unwrapped).
export function parts(parameter) {
  const found = {};
  for (const part of parameter.part || []) {
    const key = Object.keys(part).find(k => k.startsWith("value"));
    const value = key ? part[key] : part.resource;
    if (part.name in found) found[part.name] = [found[part.name], value].flat();
    else found[part.name] = value;
  }
  return found;
}

export function valueOf(parameter) {
  const key = Object.keys(parameter || {}).find(k => k.startsWith("value"));
  return key ? parameter[key] : parameter?.resource;
}
