/**
 * Reading a demo app's settings from the environment: a mistake is one line
 * naming the app and the variable, thrown as the app's own error type.
 */
export interface EnvReader {
  integer(name: string, fallback: number, min: number, max: number): number;
  /** An http(s) URL without query or fragment, trailing slashes removed (how Behalf compares resource indicators). */
  url(name: string, fallback: string): string;
}

export function envReader(env: NodeJS.ProcessEnv, app: string, fail: (message: string) => Error): EnvReader {
  return {
    integer(name, fallback, min, max) {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max)
        throw fail(`${app}: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return value;
    },
    url(name, fallback) {
      const raw = env[name] || fallback;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw fail(`${app}: ${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
      }
      if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash)
        throw fail(`${app}: ${name} must be an http(s) URL without query or fragment`);
      return raw.replace(/\/+$/, '');
    },
  };
}
