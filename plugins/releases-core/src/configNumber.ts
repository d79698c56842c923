import { Config } from '@backstage/config';

/** Reads a number from app-config, or the fallback; fails naming the key when it is below `min`. */
export function readConfigNumber(config: Config, key: string, fallback: number, min: number): number {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`Invalid config ${key}: ${value}; it must be a number of at least ${min}`);
  }
  return value;
}
