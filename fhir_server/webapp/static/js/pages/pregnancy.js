// Pregnancy: gestational age, due date, the WHO 2016 antenatal contact timeline (done,
// due, overdue, upcoming), blood pressure, haemoglobin and weight trends and the risk
// flags, from Patient/[id]/$pregnancy-summary and the patient's Observations.

import {canvasFor, COLOURS, lineChart} from "../charts.js";
import {h, replace, status} from "../dom.js";
import {codeText, parameters, parts, valueOf, weeksAndDays} from "../format.js";
import {formatDate, formatNumber, t} from "../i18n.js";
import {patientHeader, printButton} from "./common.js";

const LOINC = "http://loinc.org";
const BP_PANELS = ["85354-9", "55284-4", "85353-1"];
const SYSTOLIC = "8480-6";
const DIASTOLIC = "8462-4";
const HAEMOGLOBIN = ["718-7", "59260-0"];
const WEIGHT = ["29463-7", "3141-9"];
const DAY = 86_400_000;

function days(from, to) {
  return Math.round((Date.parse(to.slice(0, 10)) - Date.parse(from.slice(0, 10))) / DAY);
}

function codeOf(resource) {
  return (resource.code?.coding || []).filter(c => c.system === LOINC).map(c => c.code);
}

function grams(quantity) {
  const value = Number(quantity?.value);
  const unit = quantity?.code || quantity?.unit;
  if (unit === "g/L") return value / 10;
  if (unit === "mmol/L") return value * 1.61145;
  if (unit === "mg/dL") return value / 1000;
  return value; // g/dL, g/100mL
}

function trends(observations, start) {
  const series = {systolic: [], diastolic: [], haemoglobin: [], weight: []};
  for (const observation of observations) {
    const day = observation.effectiveDateTime || observation.effectivePeriod?.start;
    if (!day) continue;
    const x = days(start, day) / 7;
    const codes = codeOf(observation);
    const components = observation.component || [];
    const value = code => {
      const part = components.find(c => codeOf(c).includes(code));
      return part?.valueQuantity?.value ?? (codes.includes(code)
        ? observation.valueQuantity?.value : undefined);
    };
    if (codes.some(c => BP_PANELS.includes(c)) || codes.includes(SYSTOLIC)
        || codes.includes(DIASTOLIC)) {
      if (value(SYSTOLIC) !== undefined) series.systolic.push({x, y: Number(value(SYSTOLIC)), day});
      if (value(DIASTOLIC) !== undefined) {
        series.diastolic.push({x, y: Number(value(DIASTOLIC)), day});
      }
    } else if (codes.some(c => HAEMOGLOBIN.includes(c)) && observation.valueQuantity) {
      series.haemoglobin.push({x, y: grams(observation.valueQuantity), day});
    } else if (codes.some(c => WEIGHT.includes(c)) && observation.valueQuantity) {
      const q = observation.valueQuantity;
      const kg = (q.code || q.unit) === "g" ? Number(q.value) / 1000 : Number(q.value);
      series.weight.push({x, y: kg, day});
    }
  }
  for (const list of Object.values(series)) list.sort((a, b) => a.x - b.x);
  return series;
}

function trendChart(id, title, unit, datasets, limit) {
  const points = datasets.flatMap(d => d.data);
  const figure = h("figure", {class: "chart small"},
    h("figcaption", {}, title));
  if (points.length === 0) {
    figure.append(h("p", {class: "muted"}, t("pregnancy.noReadings")));
    return {figure, draw: () => null};
  }
  const box = h("div", {class: "chart-box"});
  const canvas = canvasFor(id, title);
  box.append(canvas);
  figure.append(box, h("table", {class: "sr-only"}, h("tbody", {}, datasets.flatMap(d =>
    d.data.map(p => h("tr", {}, h("td", {}, d.label), h("td", {}, formatDate(p.day)),
                      h("td", {}, `${formatNumber(p.y)} ${unit}`)))))));
  const lines = limit === undefined ? [] : [{
    label: t("pregnancy.limit", {value: limit}), borderColor: COLOURS.reference,
    borderDash: [6, 4], pointRadius: 0, borderWidth: 1,
    data: [{x: 0, y: limit}, {x: 42, y: limit}]}];
  return {figure, draw: () => lineChart(canvas, {
    datasets: [...datasets.map((d, i) => ({...d, borderColor: i ? COLOURS.second : COLOURS.line,
      backgroundColor: i ? COLOURS.second : COLOURS.line, pointRadius: 4, tension: 0})),
      ...lines],
    xTitle: t("pregnancy.weeks"), yTitle: unit, xMin: 0, xMax: 42,
    tooltip: item => `${item.dataset.label}: ${formatNumber(item.raw.y)} ${unit} · ` +
      `${formatDate(item.raw.day ?? "")}`})};
}

function contactTimeline(contacts, patientId) {
  return h("ol", {class: "contacts", id: "contacts"}, contacts.map(contact => {
    const state = contact.status;
    return h("li", {class: `contact contact-${state}`, "data-status": state},
      h("span", {class: "contact-number"}, t("pregnancy.contact", {number: contact.number})),
      h("span", {class: "contact-status"}, t(`contact.${state}`)),
      h("span", {class: "contact-date"}, state === "done"
        ? h("a", {href: `#/patient/${patientId}/item/${contact.encounter.reference}`},
            formatDate(contact.date))
        : t("pregnancy.due", {date: formatDate(contact.due)})));
  }));
}

export async function render(ctx, view, patientId) {
  const {element} = await patientHeader(ctx, patientId, t("pregnancy.title"));
  const summary = await ctx.fhir.request(`Patient/${patientId}/$pregnancy-summary`);
  const one = name => valueOf(parameters(summary, name)[0]);
  const edd = one("edd");
  if (!edd && parameters(summary, "contact").length === 0) {
    replace(view, element, status(t("pregnancy.none")));
    return;
  }
  const start = edd ? new Date(Date.parse(edd) - 280 * DAY).toISOString().slice(0, 10) : null;
  const contacts = parameters(summary, "contact").map(parts);
  const flags = parameters(summary, "flag").map(parts);
  const next = parameters(summary, "nextContact").map(parts)[0];
  const age = one("gestationalAge")?.value;
  const facts = h("dl", {class: "facts key", id: "pregnancy-facts"},
    h("dt", {}, t("pregnancy.ga")), h("dd", {}, age !== undefined ? weeksAndDays(age) : "–"),
    h("dt", {}, t("pregnancy.edd")), h("dd", {}, formatDate(edd)),
    h("dt", {}, t("pregnancy.method")), h("dd", {}, codeText({coding: [one("eddMethod")]})),
    h("dt", {}, t("pregnancy.trimester")), h("dd", {}, one("trimester") ?? "–"),
    h("dt", {}, t("pregnancy.next")),
    h("dd", {}, next ? t("pregnancy.nextContact", {number: next.number,
                                                  date: formatDate(next.date)}) : "–"));
  const risks = h("section", {class: "card", id: "risk-flags"},
    h("h2", {}, t("pregnancy.flags")),
    flags.length === 0 ? h("p", {}, t("pregnancy.noFlags")) : h("ul", {class: "flags"},
      flags.map(flag => h("li", {class: "flag"}, h("strong", {}, t(`flag.${flag.code}`)),
        [flag.evidence].flat().filter(Boolean).map(evidence => [" ", h("a", {
          href: `#/patient/${patientId}/item/${evidence.reference}`}, t("pregnancy.evidence"))
        ])))));
  let charts = [];
  if (start) {
    const codes = [...BP_PANELS, SYSTOLIC, DIASTOLIC, ...HAEMOGLOBIN, ...WEIGHT]
      .map(c => `${LOINC}|${c}`).join(",");
    const observations = await ctx.fhir.search("Observation", {
      patient: patientId, code: codes, date: `ge${start}`, _sort: "date", _count: 200}, 500);
    const series = trends(observations, start);
    charts = [
      trendChart("chart-bp", t("pregnancy.bp"), "mmHg", [
        {label: t("pregnancy.systolic"), data: series.systolic},
        {label: t("pregnancy.diastolic"), data: series.diastolic}], 140),
      trendChart("chart-hb", t("pregnancy.hb"), "g/dL",
                 [{label: t("pregnancy.hb"), data: series.haemoglobin}], 11),
      trendChart("chart-weight", t("pregnancy.weight"), "kg",
                 [{label: t("pregnancy.weight"), data: series.weight}]),
    ];
  }
  replace(view, element, printButton(),
    h("div", {class: "pregnancy-card"},
      facts,
      risks,
      h("section", {class: "card"}, h("h2", {}, t("pregnancy.contacts")),
        contactTimeline(contacts, patientId)),
      h("section", {class: "card trends"}, h("h2", {}, t("pregnancy.trends")),
        h("div", {class: "chart-grid"}, charts.map(c => c.figure)))));
  for (const chart of charts) chart.draw();
}
