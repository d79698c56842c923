import { ReleaseDetails, ReleaseAction } from '@release-pilot/plugin-releases-common';

/** A failure the CLI reports in one line and exits 3 for (or `exitCode`). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 3,
  ) {
    super(message);
  }
}

/** Where the backend is and how to authenticate, from flags or the environment. */
export interface Connection {
  /** The Backstage backend's base URL, e.g. http://localhost:7007. */
  url: string;
  /** A Backstage token: a static external-access token for pipelines. */
  token?: string;
}

/** The releases API of a Backstage backend, with errors a pipeline's log can act on. */
export class ReleasesHttpClient {
  constructor(private readonly connection: Connection) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.connection.url.replace(/\/+$/, '')}/api/releases${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          'Content-Type': 'application/json',
          ...(this.connection.token && { Authorization: `Bearer ${this.connection.token}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const { cause } = error as { cause?: { code?: string; message?: string } };
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        `Cannot reach Backstage at ${this.connection.url} (${why}); is the backend running? Set --url or RELEASE_PILOT_URL.`,
      );
    }
    const text = await response.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status === 401) {
      throw new CliError(
        `Backstage at ${this.connection.url} refused the token (401)${this.connection.token ? '' : ': none was given'}. Set --token or RELEASE_PILOT_TOKEN to a static token from backend.auth.externalAccess.`,
      );
    }
    if (!response.ok) {
      const message = parsed?.error?.message ?? (text.slice(0, 200) || response.statusText);
      // The risk gate: the release was not started; exit 2 so a pipeline can tell it from errors.
      if (response.status === 409 && parsed?.error?.name === 'ReleaseBlockedError') throw new CliError(message, 2);
      throw new CliError(`${method} ${path} failed (${response.status}): ${message}`);
    }
    if (parsed === undefined) {
      throw new CliError(`${method} ${path}: Backstage at ${this.connection.url} answered something that is not JSON; is that the backend's URL?`);
    }
    return parsed as T;
  }

  create(body: { entityRef: string; version: string; plan?: string; metadata?: Record<string, unknown>; deployed?: boolean; riskOverride?: { reason: string } }): Promise<ReleaseDetails> {
    return this.request('POST', '/releases', body);
  }

  /** The entity's releases in a state, newest first. */
  list(query: { entityRef: string; state?: string; limit?: number }): Promise<{ items: ReleaseDetails[]; totalCount: number }> {
    const params = new URLSearchParams({ entityRef: query.entityRef, limit: String(query.limit ?? 1), ...(query.state && { state: query.state }) });
    return this.request('GET', `/releases?${params}`);
  }

  importRiskHistory(deployments: unknown[]): Promise<{ imported: number }> {
    return this.request('POST', '/risk/history', { deployments });
  }

  trainRisk(): Promise<Record<string, unknown>> {
    return this.request('POST', '/risk/train', {});
  }

  get(id: string): Promise<ReleaseDetails> {
    return this.request('GET', `/releases/${encodeURIComponent(id)}`);
  }

  /** A pipeline confirms that a side runs a version (targets whose deployer is `none`). */
  deployed(id: string, body: { side?: 'canary' | 'stable'; version?: string }): Promise<ReleaseDetails> {
    return this.request('POST', `/releases/${encodeURIComponent(id)}/deployed`, body);
  }

  act(id: string, action: ReleaseAction, reason?: string): Promise<ReleaseDetails> {
    return this.request('POST', `/releases/${encodeURIComponent(id)}/${action}`, reason ? { reason } : {});
  }
}
