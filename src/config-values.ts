/**
 * Reading one environment variable: the primitives every part of the configuration uses. A bad
 * value is a ConfigError naming the variable (it never repeats a secret's value).
 */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where state lives (`DATABASE_URL`): read by config.ts; the defaults of other settings follow it. */
export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly filename: string }
  | { readonly kind: 'postgres'; readonly connectionString: string };

export function readOptional(environment: Environment, name: string): string | undefined {
  const value = environment[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readString(environment: Environment, name: string, fallback: string): string {
  const value = environment[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

export function readInteger(
  environment: Environment,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = environment[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < range.min || value > range.max) {
    throw new ConfigError(name, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return value;
}
