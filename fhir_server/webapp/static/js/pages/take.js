// Take my record: the International Patient Summary ($summary) and the full export (Bulk
// Data Patient/$export of the patient's own compartment), downloaded as files.

import {downloadBlob, downloadJson, h, replace, status} from "../dom.js";
import {t} from "../i18n.js";
import {patientHeader} from "./common.js";

async function summary(ctx, patientId, message) {
  replace(message, status(t("loading")));
  try {
    const bundle = await ctx.fhir.request(`Patient/${patientId}/$summary`);
    downloadJson(`patient-summary-${patientId}.json`, bundle);
    replace(message, status(t("take.summaryDone")));
  } catch (error) {
    replace(message, status(t("error", {message: error.message}), "error"));
  }
}

async function exportAll(ctx, message, files) {
  replace(message, status(t("take.exportStarted")));
  replace(files);
  try {
    const kickOff = await ctx.fhir.response("Patient/$export", {headers: {
      Prefer: "respond-async"}});
    if (kickOff.status !== 202) {
      const body = await kickOff.json().catch(() => null);
      throw new Error(body?.issue?.[0]?.diagnostics || `HTTP ${kickOff.status}`);
    }
    const poll = kickOff.headers.get("Content-Location");
    for (;;) {
      const answer = await ctx.fhir.response(poll, {headers: {Accept: "application/json"}});
      if (answer.status === 200) {
        const manifest = await answer.json();
        replace(message, status(t("take.exportDone", {count: manifest.output.length})));
        replace(files, manifest.output.map(output => h("li", {},
          h("button", {type: "button", class: "download", onclick: async () => {
            const file = await ctx.fhir.response(output.url, {headers: {
              Accept: "application/fhir+ndjson"}});
            downloadBlob(`${output.type}.ndjson`, await file.blob());
          }}, t("take.file", {type: output.type, count: output.count})))));
        return;
      }
      if (answer.status !== 202 && answer.status !== 429) {
        throw new Error(`HTTP ${answer.status}`);
      }
      const wait = Number(answer.headers.get("Retry-After") || 1);
      await new Promise(resolve => setTimeout(resolve, Math.min(wait, 5) * 1000));
    }
  } catch (error) {
    replace(message, status(t("error", {message: error.message}), "error"));
  }
}

export async function render(ctx, view, patientId) {
  const {element} = await patientHeader(ctx, patientId, t("take.title"));
  const message = h("div", {"aria-live": "polite", id: "take-status"});
  const files = h("ul", {id: "export-files", class: "files"});
  replace(view, element,
    h("section", {class: "card"}, h("h2", {}, t("take.summary")),
      h("p", {}, t("take.summaryText")),
      h("button", {type: "button", class: "primary", id: "download-summary",
                   onclick: () => summary(ctx, patientId, message)}, t("take.summaryButton"))),
    h("section", {class: "card"}, h("h2", {}, t("take.export")),
      h("p", {}, t("take.exportText")),
      h("button", {type: "button", id: "start-export",
                   onclick: () => exportAll(ctx, message, files)}, t("take.exportButton")),
      files),
    message);
}
