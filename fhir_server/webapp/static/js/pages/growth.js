// Child growth: WHO centile curves (3rd-97th) for the child's sex and age range with the
// child's measurements plotted, z-scores and centiles from Patient/[id]/$growth on hover
// and in the table below; printable.

import {canvasFor, COLOURS, lineChart} from "../charts.js";
import {h, replace, status} from "../dom.js";
import {ageInDays, parameters, parts, resourceDate} from "../format.js";
import {formatDate, formatNumber, t} from "../i18n.js";
import {patientHeader, printButton} from "./common.js";

const LOINC = "http://loinc.org";
const DAYS_PER_MONTH = 30.4375;
// chart -> the $growth indicators it shows
const CHARTS = {wfa: ["wfa"], lhfa: ["lhfa"], hcfa: ["hcfa"], bfa: ["bfa"], wfl: ["wfl", "wfh"]};
const UNITS = {wfa: "kg", lhfa: "cm", hcfa: "cm", bfa: "kg/m²", wfl: "kg"};
const RANGES = ["0-6", "0-24", "0-60", "60-228"];
const GROWTH_CODES = ["29463-7", "3141-9", "8302-2", "8306-3", "8308-0", "9843-4", "8287-5",
                      "39156-5"];
const LENGTH_CODES = ["8302-2", "8306-3", "8308-0"];
// The chart on screen, drawn at paper size while printing.
const printing = {chart: () => null};
window.addEventListener("beforeprint", () => printing.chart()?.resize(680, 440));
window.addEventListener("afterprint", () => printing.chart()?.resize());

function inKilograms(q) {
  const unit = q.code || q.unit;
  if (unit === "g") return q.value / 1000;
  if (unit === "[lb_av]") return q.value * 0.45359237;
  return Number(q.value);
}

function inCentimetres(q) {
  const unit = q.code || q.unit;
  if (unit === "mm") return q.value / 10;
  if (unit === "m") return q.value * 100;
  if (unit === "[in_i]") return q.value * 2.54;
  return Number(q.value);
}

function loinc(observation) {
  return (observation.code?.coding || []).filter(c => c.system === LOINC).map(c => c.code);
}

// One plotted point per $growth measurement result: x (age in months, or length in cm for
// weight-for-length), y (the measurement), and the result.
function points(results, observations, birthDate) {
  const byId = Object.fromEntries(observations.map(o => [`Observation/${o.id}`, o]));
  const lengthOn = day => observations.find(o => loinc(o).some(c => LENGTH_CODES.includes(c))
    && resourceDate(o).slice(0, 10) === day);
  const found = {wfa: [], lhfa: [], hcfa: [], bfa: [], wfl: []};
  for (const result of results) {
    const observation = byId[result.observation?.reference];
    const chart = Object.keys(CHARTS).find(c => CHARTS[c].includes(result.indicator));
    if (!observation || !chart || !observation.valueQuantity) continue;
    const day = resourceDate(observation).slice(0, 10);
    const days = ageInDays(birthDate, day);
    const quantity = observation.valueQuantity;
    const codes = loinc(observation);
    let x = days / DAYS_PER_MONTH;
    let y;
    if (chart === "wfa") y = inKilograms(quantity);
    else if (chart === "lhfa" || chart === "hcfa") y = inCentimetres(quantity);
    else if (chart === "bfa") {
      if (codes.includes("39156-5")) y = Number(quantity.value);
      else {
        const length = lengthOn(day);
        if (!length) continue;
        y = inKilograms(quantity) / (inCentimetres(length.valueQuantity) / 100) ** 2;
      }
    } else {
      const length = lengthOn(day);
      if (!length) continue;
      x = inCentimetres(length.valueQuantity);
      y = inKilograms(quantity);
    }
    found[chart].push({x, y, day, days, indicator: result.indicator,
                       z: Number(result.zScore), percentile: Number(result.percentile),
                       classification: result.classification?.display || "",
                       flags: [result.flag].flat().filter(Boolean),
                       observation: result.observation.reference});
  }
  for (const list of Object.values(found)) list.sort((a, b) => a.x - b.x);
  return found;
}

function defaultRange(found) {
  const months = Math.max(0, ...Object.entries(found).filter(([c]) => c !== "wfl")
    .flatMap(([, list]) => list.map(p => p.x)));
  if (months <= 6) return "0-6";
  if (months <= 24) return "0-24";
  if (months < 61) return "0-60";
  return "60-228";
}

function monthsText(days) {
  return t("age.months", {n: formatNumber(days / DAYS_PER_MONTH, 1)});
}

function pointLabel(point, unit) {
  return [formatDate(point.day), monthsText(point.days),
          `${formatNumber(point.y, 2)} ${unit}`,
          t("growth.zScore", {z: formatNumber(point.z, 2)}),
          t("growth.centile", {centile: formatNumber(point.percentile, 1)}),
          point.classification].filter(Boolean).join(" · ");
}

async function drawChart(ctx, figure, chartName, range, sex, childPoints) {
  const curveRange = chartName === "wfl" ? (range === "0-6" ? "0-24" : range) : range;
  const response = await fetch(`growth-curves/${chartName}?sex=${sex}&range=${curveRange}`);
  const reference = await response.json();
  if (!response.ok) {
    replace(figure, status(reference.error, "error"));
    return null;
  }
  const xs = reference.curves[0].points.map(p => p[0]);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const shown = childPoints.filter(p => p.x >= xMin && p.x <= xMax);
  const unit = UNITS[chartName];
  const title = t(`growth.chart.${chartName}`);
  const canvas = canvasFor("growth-chart", t("growth.chartLabel", {
    chart: title, count: shown.length}));
  const box = h("div", {class: "chart-box growth"}, canvas);
  replace(figure, h("figcaption", {}, title, " · ", t(`gender.${sex}`), " · ",
                    t(`growth.range.${curveRange}`)), box);
  const datasets = reference.curves.map(curve => ({
    label: t(`growth.centileLine.${curve.centile}`), centile: curve.centile,
    z: curve.z, data: curve.points.map(([x, y]) => ({x, y})),
    borderColor: COLOURS.curves[curve.centile], borderWidth: curve.centile === 50 ? 2 : 1.5,
    pointRadius: 0, pointHitRadius: 0, tension: 0}));
  datasets.push({label: t("growth.child"), child: true, data: shown, showLine: true,
                 borderColor: COLOURS.child, backgroundColor: COLOURS.child, pointRadius: 5,
                 pointHoverRadius: 7, borderWidth: 2, tension: 0});
  const chart = lineChart(canvas, {
    datasets, xMin, xMax, yTitle: unit,
    xTitle: chartName === "wfl" ? t("growth.lengthAxis") : t("growth.ageAxis"),
    tooltip: item => pointLabel(item.raw, unit)});
  chart.options.plugins.tooltip.filter = item => Boolean(item.dataset.child);
  chart.options.plugins.tooltip.callbacks.title = () => "";
  chart.update();
  return chart;
}

function table(list, unit) {
  return h("div", {class: "table-scroll"}, h("table", {id: "growth-table"},
    h("thead", {}, h("tr", {}, ["growth.date", "growth.age", "growth.value", "growth.z",
                               "growth.percentile", "growth.classification"]
      .map(k => h("th", {scope: "col"}, t(k))))),
    h("tbody", {}, list.length === 0 ? h("tr", {}, h("td", {colspan: 6}, t("growth.none")))
      : list.map(p => h("tr", {class: Math.abs(p.z) >= 2 ? "attention" : null},
        h("td", {}, formatDate(p.day)), h("td", {}, monthsText(p.days)),
        h("td", {}, `${formatNumber(p.y, 2)} ${unit}`), h("td", {}, formatNumber(p.z, 2)),
        h("td", {}, formatNumber(p.percentile, 1)),
        h("td", {}, [p.classification, ...p.flags.map(f => t(`growth.flag.${f}`))]
          .filter(Boolean).join("; ")))))));
}

export async function render(ctx, view, patientId) {
  const {element, patient} = await patientHeader(ctx, patientId, t("growth.title"));
  if (!["male", "female"].includes(patient.gender) || !patient.birthDate) {
    replace(view, element, status(t("growth.needSexAndBirth"), "error"));
    return;
  }
  const [growth, observations] = await Promise.all([
    ctx.fhir.request(`Patient/${patientId}/$growth`),
    ctx.fhir.search("Observation", {patient: patientId, _count: 200,
      code: GROWTH_CODES.map(c => `${LOINC}|${c}`).join(",")}, 1000)]);
  const found = points(parameters(growth, "measurement").map(parts), observations,
                       patient.birthDate);
  let chartName = "wfa";
  let range = defaultRange(found);
  let chart = null;
  const figure = h("figure", {class: "chart", id: "growth-figure"});
  const below = h("div", {});
  const chartTabs = h("div", {class: "segmented no-print", role: "group",
                              "aria-label": t("growth.chooseChart")});
  const rangeTabs = h("div", {class: "segmented no-print", role: "group",
                              "aria-label": t("growth.chooseRange")});

  async function show() {
    replace(chartTabs, Object.keys(CHARTS).map(name => h("button", {
      type: "button", "aria-pressed": String(name === chartName), "data-chart": name,
      onclick: () => { chartName = name; show(); }}, t(`growth.chart.${name}`))));
    replace(rangeTabs, RANGES.map(name => h("button", {
      type: "button", "aria-pressed": String(name === range), "data-range": name,
      onclick: () => { range = name; show(); }}, t(`growth.range.${name}`))));
    chart?.destroy();
    figure.dataset.ready = "";
    chart = await drawChart(ctx, figure, chartName, range, patient.gender, found[chartName]);
    replace(below, table(found[chartName], UNITS[chartName]));
    figure.dataset.ready = `${chartName}:${range}`;
  }

  replace(view, element, printButton(), chartTabs, rangeTabs, figure, below);
  printing.chart = () => chart;
  await show();
}
