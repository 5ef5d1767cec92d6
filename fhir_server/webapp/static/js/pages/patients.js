// Clinicians: find a patient by name, identifier (health ID) or birth date.

import {h, replace, status} from "../dom.js";
import {humanName} from "../format.js";
import {formatDate, t} from "../i18n.js";

function identifiers(patient) {
  return (patient.identifier || []).map(i => i.value).filter(Boolean).join(", ");
}

export async function render(ctx, view) {
  const results = h("div", {id: "patient-results", "aria-live": "polite"});
  const field = (id, label, type = "text") => h("div", {class: "field"},
    h("label", {for: id}, label), h("input", {id, name: id, type, autocomplete: "off"}));
  const form = h("form", {id: "patient-search", class: "search", role: "search",
                          onsubmit: event => search(event)},
    field("name", t("search.name")),
    field("identifier", t("search.identifier")),
    field("birthdate", t("search.birthDate"), "date"),
    h("button", {type: "submit", class: "primary"}, t("search.submit")));

  async function search(event) {
    event.preventDefault();
    const params = {_count: 50, _sort: "name"};
    for (const name of ["name", "identifier", "birthdate"]) {
      const value = form.elements[name].value.trim();
      if (value) params[name] = value;
    }
    replace(results, status(t("loading")));
    try {
      const found = await ctx.fhir.search("Patient", params, 50);
      replace(results, found.length === 0 ? status(t("search.none")) : h("table", {},
        h("caption", {}, t("search.found", {count: found.length})),
        h("thead", {}, h("tr", {}, [t("search.name"), t("patient.sex"), t("search.birthDate"),
                                   t("search.identifier")].map(c => h("th", {scope: "col"}, c)))),
        h("tbody", {}, found.map(patient => h("tr", {},
          h("td", {}, h("a", {href: `#/patient/${patient.id}/record`, class: "patient-link"},
                            humanName(patient))),
          h("td", {}, t(`gender.${patient.gender || "unknown"}`)),
          h("td", {}, formatDate(patient.birthDate)),
          h("td", {}, identifiers(patient)))))));
    } catch (error) {
      replace(results, status(t("error", {message: error.message}), "error"));
    }
    results.dataset.ready = "true";
  }

  replace(view, h("h1", {}, t("search.title")), form, results);
}
