// Sign-in through the server's own SMART authorization: authorization code with PKCE
// (S256), SMART App Launch 2.x standalone launch
// (https://hl7.org/fhir/smart-app-launch/app-launch.html), RFC 7636. The token lives in
// this tab's sessionStorage only; the refresh token (online_access) renews it while the
// person stays signed in at the server.

import {sha256} from "./sha256.js";

const SESSION = "mch-web-app.session";
const PENDING = "mch-web-app.pending";
const SIGNED_OUT = "mch-web-app.signed-out";

function randomText(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function challengeOf(verifier) {
  const data = new TextEncoder().encode(verifier);
  // WebCrypto exists only in secure contexts (https, localhost); a clinic's LAN server on
  // plain http gets the same digest from the script.
  const digest = crypto.subtle ? new Uint8Array(await crypto.subtle.digest("SHA-256", data))
                               : sha256(data);
  return base64url(digest);
}

async function discovery(config) {
  const response = await fetch(`${config.fhirBase}/.well-known/smart-configuration`);
  if (!response.ok) throw new Error(`SMART configuration: ${response.status}`);
  return response.json();
}

export async function signIn(config) {
  const smart = await discovery(config);
  const verifier = randomText(48);
  const state = randomText(24);
  sessionStorage.setItem(PENDING, JSON.stringify({
    state, verifier, tokenEndpoint: smart.token_endpoint,
    revocationEndpoint: smart.revocation_endpoint, returnTo: location.hash}));
  const url = new URL(smart.authorization_endpoint);
  const query = new URLSearchParams({
    response_type: "code", client_id: config.clientId, redirect_uri: config.appUrl,
    scope: config.scope, state, aud: config.fhirBase,
    code_challenge: await challengeOf(verifier), code_challenge_method: "S256",
  });
  // after a sign-out on this device the next person signs in afresh (OIDC prompt=login),
  // even while the authorization server still remembers the previous one
  if (localStorage.getItem(SIGNED_OUT)) query.set("prompt", "login");
  url.search = query.toString();
  location.assign(url.toString());
}

function claims(idToken) {
  if (!idToken) return {};
  const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function store(token, previous = {}) {
  const session = {
    accessToken: token.access_token,
    expiresAt: Date.now() + (token.expires_in || 300) * 1000,
    refreshToken: token.refresh_token || previous.refreshToken,
    tokenEndpoint: previous.tokenEndpoint,
    revocationEndpoint: previous.revocationEndpoint,
    scope: token.scope,
    patient: token.patient || previous.patient,
    fhirUser: previous.fhirUser,
  };
  const fhirUser = claims(token.id_token).fhirUser;
  if (fhirUser) session.fhirUser = fhirUser.split("/").slice(-2).join("/");
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

async function tokenRequest(endpoint, fields) {
  const response = await fetch(endpoint, {
    method: "POST", body: new URLSearchParams(fields),
    headers: {"Content-Type": "application/x-www-form-urlencoded", Accept: "application/json"},
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error_description || body.error || response.status);
  return body;
}

// The authorization response (?code=...&state=...) back at the app's page: the token.
export async function completeSignIn(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", config.appUrl + (pending?.returnTo || ""));
  if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!pending || pending.state !== params.get("state")) {
    throw new Error("The sign-in answer does not match this tab's request; sign in again.");
  }
  const token = await tokenRequest(pending.tokenEndpoint, {
    grant_type: "authorization_code", code: params.get("code"),
    redirect_uri: config.appUrl, client_id: config.clientId, code_verifier: pending.verifier,
  });
  localStorage.removeItem(SIGNED_OUT);
  return store(token, {tokenEndpoint: pending.tokenEndpoint,
                       revocationEndpoint: pending.revocationEndpoint});
}

export function currentSession() {
  return JSON.parse(sessionStorage.getItem(SESSION) || "null");
}

// A fresh access token, refreshed shortly before it expires; null when signed out.
export async function accessToken(config) {
  const session = currentSession();
  if (!session) return null;
  if (session.expiresAt - Date.now() > 60_000) return session.accessToken;
  if (!session.refreshToken) return session.accessToken;
  try {
    const token = await tokenRequest(session.tokenEndpoint, {
      grant_type: "refresh_token", refresh_token: session.refreshToken,
      client_id: config.clientId});
    return store(token, session).accessToken;
  } catch (error) {
    sessionStorage.removeItem(SESSION);
    return null;
  }
}

// Forget the tokens, and revoke them at the server (RFC 7009): revoking the refresh token
// ends its whole family, the access tokens included.
export async function signOut(config) {
  const session = currentSession();
  sessionStorage.removeItem(SESSION);
  localStorage.setItem(SIGNED_OUT, "1");
  const token = session?.refreshToken || session?.accessToken;
  if (!token || !session.revocationEndpoint) return;
  await fetch(session.revocationEndpoint, {
    method: "POST", body: new URLSearchParams({token, client_id: config.clientId}),
    headers: {"Content-Type": "application/x-www-form-urlencoded"},
  }).catch(() => null);
}
