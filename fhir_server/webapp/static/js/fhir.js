// The FHIR API, called with the signed-in person's token: the server's access policy
// (SMART scopes, the patients' Consents) decides every answer, as for any client.

import {accessToken, signIn, signOut} from "./smart.js";

export class FhirError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function outcomeText(body, status) {
  const issues = body?.resourceType === "OperationOutcome" ? body.issue || [] : [];
  const text = issues.map(i => i.diagnostics || i.details?.text).filter(Boolean).join("; ");
  return text || `HTTP ${status}`;
}

export class Fhir {
  constructor(config) {
    this.config = config;
    this.base = config.fhirBase;
  }

  url(path) {
    return /^https?:/.test(path) ? path : `${this.base}/${path.replace(/^\//, "")}`;
  }

  async response(path, {method = "GET", body, headers = {}} = {}) {
    const token = this.config.auth === "smart" ? await accessToken(this.config) : null;
    if (this.config.auth === "smart" && !token) {
      await signIn(this.config);
      throw new FhirError(401, "signing in");
    }
    const all = {Accept: "application/fhir+json", ...headers};
    if (token) all.Authorization = `Bearer ${token}`;
    if (body !== undefined) all["Content-Type"] = "application/fhir+json";
    return fetch(this.url(path), {
      method, headers: all, body: body === undefined ? undefined : JSON.stringify(body)});
  }

  async request(path, options = {}) {
    const response = await this.response(path, options);
    if (response.status === 401 && this.config.auth === "smart") {
      // the token was revoked or has expired for good: sign in again, back to this page
      await signOut(this.config);
      await signIn(this.config);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new FhirError(response.status, outcomeText(body, response.status));
    return body;
  }

  read(type, id) {
    return this.request(`${type}/${encodeURIComponent(id)}`);
  }

  // The resources of a search, following `next` links up to `limit` resources.
  async search(type, params = {}, limit = 200) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const one of [value].flat()) if (one !== undefined && one !== "") query.append(name, one);
    }
    let bundle = await this.request(`${type}?${query}`);
    const found = [];
    for (;;) {
      for (const entry of bundle.entry || []) {
        if (entry.search?.mode !== "include" && entry.resource) found.push(entry.resource);
      }
      const next = (bundle.link || []).find(link => link.relation === "next");
      if (!next || found.length >= limit) return found.slice(0, limit);
      bundle = await this.request(next.url);
    }
  }

  create(resource) {
    return this.request(resource.resourceType, {method: "POST", body: resource});
  }

  update(resource) {
    return this.request(`${resource.resourceType}/${resource.id}`,
                        {method: "PUT", body: resource});
  }
}
