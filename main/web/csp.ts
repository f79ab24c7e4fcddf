// The renderer's Content Security Policy, one definition for both hosts: Electron
// (file://, header injected by the session) and the browser host (HTTP header).
// No inline script, no eval, nothing fetched from anywhere but the app itself.

/** Builds the policy; `connect` adds sources to connect-src (the browser host's ws:// origin). */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The policy of the Electron window: the page talks to main over IPC only. */
export const ELECTRON_CSP = contentSecurityPolicy();
