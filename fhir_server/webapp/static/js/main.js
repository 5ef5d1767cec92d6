// The app's shell: sign-in, who the user is, the header, the navigation and the routes
// (hash routes: #/patients, #/patient/<id>/<page>).

import {h, replace, status} from "./dom.js";
import {Fhir} from "./fhir.js";
import {humanName} from "./format.js";
import {LANGUAGES, chosenLanguage, currentLanguage, setLanguage, t} from "./i18n.js";
import {completeSignIn, currentSession, signIn, signOut} from "./smart.js";
import * as accessLog from "./pages/access-log.js";
import * as consents from "./pages/consents.js";
import * as growth from "./pages/growth.js";
import * as immunizations from "./pages/immunizations.js";
import * as item from "./pages/item.js";
import * as patients from "./pages/patients.js";
import * as pregnancy from "./pages/pregnancy.js";
import * as record from "./pages/record.js";
import * as take from "./pages/take.js";

const config = JSON.parse(document.getElementById("config").textContent);
const PATIENT_PAGES = {record, item, consents, access: accessLog, take, pregnancy, growth,
                       immunizations};
// Tabs of a patient's pages: what a patient (or parent) and what a clinician sees.
const OWN_TABS = ["record", "consents", "access", "take"];
const CLINICIAN_TABS = ["record", "pregnancy", "growth", "immunizations"];

const ctx = {config, fhir: new Fhir(config), user: null};

async function whoIsUser() {
  if (config.auth !== "smart") return {kind: "open", name: t("user.open")};
  const session = currentSession();
  if (!session) return null;
  const reference = session.fhirUser || "";
  const [type, id] = reference.split("/");
  const resource = type && id ? await ctx.fhir.read(type, id).catch(() => null) : null;
  const name = resource ? humanName(resource) : reference;
  if (type === "Patient") return {kind: "patient", reference, name, patient: id};
  if (type === "RelatedPerson" && resource?.patient?.reference) {
    return {kind: "delegate", reference, name,
            patient: resource.patient.reference.split("/").pop()};
  }
  return {kind: "clinician", reference, name};
}

function languagePicker() {
  const select = h("select", {id: "language", onchange: async event => {
    await setLanguage(event.target.value);
    renderShell();
    route();
  }}, Object.entries(LANGUAGES).map(([code, label]) =>
    h("option", {value: code, lang: code, selected: code === currentLanguage()}, label)));
  return h("span", {class: "language"}, h("label", {for: "language"}, t("language")), select);
}

function renderShell() {
  const header = document.getElementById("header");
  const user = ctx.user;
  replace(header,
    h("a", {class: "brand", href: "#/"}, t("app.title")),
    h("div", {class: "who"},
      user ? h("span", {id: "signed-in-as"}, t("signedInAs", {name: user.name})) : null,
      languagePicker(),
      user && config.auth === "smart"
        ? h("button", {type: "button", id: "sign-out", onclick: async () => {
            await signOut(config);
            location.replace(config.appUrl);
          }}, t("signOut")) : null));
  if (config.auth !== "smart") {
    header.append(h("p", {class: "banner", role: "note"}, t("authOffBanner")));
  }
}

function welcome(main, error) {
  replace(main,
    h("h1", {}, t("welcome.title")),
    h("p", {}, t("welcome.text")),
    error ? status(error, "error") : null,
    h("button", {type: "button", id: "sign-in", class: "primary",
                 onclick: () => signIn(config)}, t("signIn")));
}

function tabsFor(patient, page) {
  const own = ctx.user.kind === "patient" || ctx.user.kind === "delegate";
  const tabs = own && ctx.user.patient === patient ? OWN_TABS : CLINICIAN_TABS;
  return h("nav", {class: "tabs no-print", "aria-label": t("nav.patient")},
    h("ul", {}, tabs.map(tab => h("li", {},
      h("a", {href: `#/patient/${patient}/${tab}`, id: `tab-${tab}`,
              "aria-current": tab === page || (page === "item" && tab === "record")
                ? "page" : null},
        t(own && ctx.user.patient === patient ? `tab.own.${tab}` : `tab.${tab}`))))));
}

async function route() {
  const main = document.getElementById("main");
  if (!ctx.user) return welcome(main);
  const path = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!path[0]) {
    location.replace(ctx.user.patient ? `#/patient/${ctx.user.patient}/record` : "#/patients");
    return;
  }
  replace(main, status(t("loading")));
  const view = h("div", {class: "page"});
  try {
    if (path[0] === "patients") {
      replace(main, view);
      await patients.render(ctx, view, path.slice(1));
    } else if (path[0] === "patient" && path[1] && PATIENT_PAGES[path[2] || "record"]) {
      const page = path[2] || "record";
      replace(main, tabsFor(path[1], page), view);
      await PATIENT_PAGES[page].render(ctx, view, path[1], path.slice(3));
    } else {
      replace(main, status(t("notFound"), "error"));
    }
  } catch (error) {
    if (error.status !== 401) view.append(status(t("error", {message: error.message}), "error"));
  }
  main.focus({preventScroll: true});
  main.dataset.ready = location.hash;
}

function skipLink() {
  const link = document.querySelector(".skip");
  link.textContent = t("skip");
  link.addEventListener("click", event => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
}

async function start() {
  const app = new URL(config.appUrl);
  if (location.origin !== app.origin) {
    // Sign-in returns to the registered address: start there, so the tab keeps its state.
    location.replace(app.href + location.hash);
    return;
  }
  await setLanguage(chosenLanguage());
  let error = null;
  try {
    await completeSignIn(config);
  } catch (failure) {
    error = t("signInFailed", {message: failure.message});
  }
  ctx.user = error ? null : await whoIsUser();
  renderShell();
  skipLink();
  if (!ctx.user) {
    welcome(document.getElementById("main"), error);
    document.getElementById("main").dataset.ready = "welcome";
    return;
  }
  window.addEventListener("hashchange", route);
  await route();
}

start();
