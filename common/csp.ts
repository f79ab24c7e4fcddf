// The renderer's Content Security Policy, one definition for both hosts: Electron
// (file://, header injected by the session), the browser host (HTTP header), and a
// <meta> tag in the built page itself, so the page is covered however it is loaded.
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

/** The policy as a <meta> tag can carry it (frame-ancestors only works as a header). */
export function metaContentSecurityPolicy(): string {
  return contentSecurityPolicy()
    .split('; ')
    .filter((directive) => !directive.startsWith('frame-ancestors'))
    .join('; ');
}

/** The policy of the Electron window: the page talks to main over IPC only. */
export const ELECTRON_CSP = contentSecurityPolicy();
