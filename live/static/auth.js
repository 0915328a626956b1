// Tokens in the browser: where each page keeps its token (localStorage, never the address bar)
// and the one fetch that carries it as a bearer header to the host-only HTTP endpoints.

export const HOST_TOKEN_KEY = "live.console.token";
export const JUDGE_TOKEN_KEY = "judge_pad.token";

export function tokenStore(key) {
  return {
    get: () => localStorage.getItem(key),
    set: (token) => localStorage.setItem(key, token),
    clear: () => localStorage.removeItem(key),
  };
}

export const hostToken = tokenStore(HOST_TOKEN_KEY);

// GET (or POST a JSON body) with the host token; the caller reads the Response.
export function bearerFetch(path, { token = hostToken.get(), body = undefined } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method: body !== undefined ? "POST" : "GET",
    headers,
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}
