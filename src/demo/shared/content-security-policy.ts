/**
 * The demo apps' Content-Security-Policy (koa-helmet's option): no scripts at
 * all, styles and images from the app itself, no framing, and forms posting to
 * the app or to Behalf ("Sign out" posts here and goes on to Behalf's
 * end-session endpoint; Chrome applies form-action to a form post's redirects).
 */
export function demoContentSecurityPolicy(issuer: string) {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'", new URL(issuer).origin],
    },
  };
}
