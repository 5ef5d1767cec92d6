// Building the page from data: elements with text (never HTML strings), so nothing a
// record contains can become markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

// A live region announcing a page's state ("loading", errors) to screen readers.
export function status(text, kind = "info") {
  return h("p", {class: `status status-${kind}`, role: kind === "error" ? "alert" : "status"},
           text);
}

export function downloadJson(name, data, type = "application/fhir+json") {
  const text = typeof data === "string" ? data : JSON.stringify(data, null, 2);
  downloadBlob(name, new Blob([text], {type}));
}

export function downloadBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = h("a", {href: url, download: name, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
