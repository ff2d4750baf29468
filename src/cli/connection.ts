/**
 * The Temporal connection: which server, and how to reach it.
 *
 * Settings resolve from (lowest first) Temporal's own environment variables and profiles
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
 * `TEMPORAL_PROFILE`, the TOML config file, read by `@temporalio/envconfig`) < `stoq.cfg`
 * `[temporal]` < command-line flags. When no source names an address, the local default
 * applies (see {@link ./local-server}).
 */
import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../config/errors';
import type { StoqConfig } from '../config/stoq-config';
import { InfraError } from './errors';
import type { ConnectionFlags } from './options';

/** Where to connect and with what credentials. `address` is absent when nothing named one. */
export interface TemporalSettings {
  address?: string;
  namespace: string;
  apiKey?: string;
  tls?: TLSConfig | boolean;
  metadata?: Record<string, string>;
  connectTimeoutMs: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export function resolveTemporalSettings(
  config: StoqConfig,
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): TemporalSettings {
  const fromTemporal = temporalEnvSettings(flags.profile ?? config.temporal.profile, env);
  const cfg = config.temporal;
  const where = `${config.source ?? 'stoq.cfg'} [temporal]`;

  // The stoq.cfg schema defaults namespace to "default" and tls to false; only a value other
  // than those defaults counts as set there, so TEMPORAL_NAMESPACE / TEMPORAL_TLS still apply.
  const namespace =
    flags.namespace ??
    (cfg.namespace !== 'default' ? cfg.namespace : undefined) ??
    fromTemporal.namespace ??
    'default';

  const tls = mergeTls(fromTemporal.connectionOptions.tls ?? undefined, [
    {
      where,
      enabled: cfg.tls || undefined,
      cert: cfg.tls_cert_path,
      key: cfg.tls_key_path,
      ca: cfg.tls_ca_path,
      serverName: cfg.tls_server_name,
    },
    {
      where: 'flag',
      enabled: flags.tls,
      cert: flags.tlsCertPath,
      key: flags.tlsKeyPath,
      ca: flags.tlsCaPath,
      serverName: flags.tlsServerName,
    },
  ]);
  const apiKey =
    flags.apiKey ?? cfg.api_key ?? stringOrUndefined(fromTemporal.connectionOptions.apiKey);

  return {
    address: flags.address ?? cfg.address ?? fromTemporal.connectionOptions.address,
    namespace,
    apiKey,
    // Temporal's rule: an API key without explicit TLS settings means TLS.
    tls: tls ?? (apiKey ? true : undefined),
    metadata: stringRecord(fromTemporal.connectionOptions.metadata),
    connectTimeoutMs: flags.connectTimeout
      ? flags.connectTimeout * 1000
      : DEFAULT_CONNECT_TIMEOUT_MS,
  };
}

function temporalEnvSettings(profile: string | undefined, env: NodeJS.ProcessEnv) {
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    return toClientOptions(loadClientConfigProfile({ profile, overrideEnvVars }));
  } catch (error) {
    throw new ConfigError(
      `Temporal client config${profile ? ` (profile "${profile}")` : ''}: ${(error as Error).message}`,
    );
  }
}

interface TlsLayer {
  where: string;
  enabled?: boolean;
  cert?: string;
  key?: string;
  ca?: string;
  serverName?: string;
}

function mergeTls(
  base: TLSConfig | boolean | undefined,
  layers: TlsLayer[],
): TLSConfig | boolean | undefined {
  let tls = base;
  for (const layer of layers) {
    const { enabled, cert, key, ca, serverName } = layer;
    if (enabled === false) {
      tls = false;
      continue;
    }
    if (!enabled && !cert && !key && !ca && !serverName) continue;

    const current: TLSConfig = typeof tls === 'object' ? { ...tls } : {};
    if (ca) current.serverRootCACertificate = readTlsFile(layer.where, 'tls-ca-path', ca);
    if (serverName) current.serverNameOverride = serverName;
    if (cert || key) {
      if (!cert || !key) {
        throw new ConfigError(
          `${layer.where === 'flag' ? '--tls-cert-path/--tls-key-path' : `${layer.where} tls_cert_path/tls_key_path`}: give both the client certificate and its key`,
        );
      }
      current.clientCertPair = {
        crt: readTlsFile(layer.where, 'tls-cert-path', cert),
        key: readTlsFile(layer.where, 'tls-key-path', key),
      };
    }
    tls = Object.keys(current).length > 0 ? current : true;
  }
  return tls;
}

function readTlsFile(where: string, flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const name = where === 'flag' ? `--${flag}` : `${where} ${flag.replace(/-/g, '_')}`;
    throw new ConfigError(
      `${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** What is safe to log about the settings: never the API key or key material. */
export function describeSettings(settings: TemporalSettings): Record<string, unknown> {
  return {
    address: settings.address,
    namespace: settings.namespace,
    tls: settings.tls === undefined ? false : settings.tls !== false,
    api_key: settings.apiKey ? '(set)' : undefined,
  };
}

function connectionOptions(settings: TemporalSettings, address: string): ConnectionOptions {
  return {
    address,
    tls: settings.tls,
    apiKey: settings.apiKey,
    metadata: settings.metadata,
    connectTimeout: settings.connectTimeoutMs,
  };
}

/** A client connection; an unreachable server becomes an {@link InfraError}. */
export async function connectClient(
  settings: TemporalSettings,
  address: string,
): Promise<Connection> {
  try {
    return await Connection.connect(connectionOptions(settings, address));
  } catch (error) {
    throw unreachable(address, error);
  }
}

/** A worker connection to the same server. */
export async function connectWorker(
  settings: TemporalSettings,
  address: string,
): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({
      address,
      tls: settings.tls,
      apiKey: settings.apiKey,
      metadata: settings.metadata,
    });
  } catch (error) {
    throw unreachable(address, error);
  }
}

export function unreachable(address: string, error: unknown): InfraError {
  const reason = (error as Error).message?.split('\n')[0] ?? String(error);
  return new InfraError(`cannot reach the Temporal server at ${address}: ${reason}`, {
    cause: error,
  });
}
