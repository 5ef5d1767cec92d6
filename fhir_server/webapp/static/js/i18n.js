// Translations are data: static/i18n/<language>.json, one flat object of keys to texts
// with {name} placeholders. English is the fallback for a key a translation lacks.

export const LANGUAGES = {en: "English", hi: "हिन्दी"};
const LOCALES = {en: "en-GB", hi: "hi-IN"};
const STORAGE = "mch-web-app.language";
let texts = {};
let fallback = {};
let language = "en";

async function load(code) {
  const response = await fetch(`static/i18n/${code}.json`);
  if (!response.ok) throw new Error(`translations ${code}: ${response.status}`);
  return response.json();
}

export function chosenLanguage() {
  const stored = localStorage.getItem(STORAGE);
  if (stored in LANGUAGES) return stored;
  const browser = (navigator.language || "en").slice(0, 2);
  return browser in LANGUAGES ? browser : "en";
}

export async function setLanguage(code) {
  language = code in LANGUAGES ? code : "en";
  localStorage.setItem(STORAGE, language);
  fallback = await load("en");
  texts = language === "en" ? fallback : await load(language);
  if (language === "hi" && document.fonts) {
    // the vendored Devanagari font, loaded before the page is drawn in it
    await Promise.all(["400", "700"].map(weight => document.fonts.load(
      `${weight} 1rem "Noto Sans Devanagari"`, "हिन्दी")));
  }
  document.documentElement.lang = language;
}

export function currentLanguage() {
  return language;
}

export function t(key, values = {}) {
  const text = texts[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? values[name] : match));
}

export function formatDate(value) {
  if (!value) return "";
  const [year, month, day] = String(value).slice(0, 10).split("-").map(Number);
  if (!month) return String(year);
  const date = new Date(Date.UTC(year, month - 1, day || 1));
  const options = day ? {dateStyle: "medium", timeZone: "UTC"}
                      : {year: "numeric", month: "short", timeZone: "UTC"};
  return new Intl.DateTimeFormat(LOCALES[language], options).format(date);
}

export function formatDateTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(LOCALES[language], {dateStyle: "medium", timeStyle: "short"})
    .format(new Date(value));
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(LOCALES[language], {maximumFractionDigits: digits})
    .format(value);
}
