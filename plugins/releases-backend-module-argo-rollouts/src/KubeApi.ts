import http from 'node:http';
import https from 'node:https';
import { ArgoRolloutsOptions } from './config';

/** An answer of the Kubernetes API that was not a success: its status and the API's message. */
export class KubeApiError extends Error {
  name = 'KubeApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type PatchType = 'application/merge-patch+json' | 'application/json-patch+json';

/**
 * The few Kubernetes API calls the Argo Rollouts actions make, over HTTP(S) with the service
 * account's token: GET an object or a list, PATCH with a given patch type and exact bytes.
 */
export class KubeApi {
  constructor(private readonly options: Pick<ArgoRolloutsOptions, 'cluster' | 'timeoutSeconds'>) {}

  get(path: string): Promise<any> {
    return this.request('GET', path);
  }

  patch(path: string, type: PatchType, body: string): Promise<any> {
    return this.request('PATCH', path, type, body);
  }

  private request(method: string, path: string, contentType?: string, body?: string): Promise<any> {
    const { cluster, timeoutSeconds } = this.options;
    const url = new URL(`${cluster.url}${path}`);
    const secure = url.protocol === 'https:';
    const ca = cluster.caData && (cluster.caData.includes('BEGIN') ? cluster.caData : Buffer.from(cluster.caData, 'base64').toString());
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${cluster.serviceAccountToken}` };
    if (contentType) headers['content-type'] = contentType;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const options = { method, headers, timeout: timeoutSeconds * 1000, ...(secure && { ca, rejectUnauthorized: !cluster.skipTLSVerify }) };
      const req = (secure ? https : http).request(url, options, res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
          let json: any;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(json);
          else reject(new KubeApiError(status, `Kubernetes API: ${method} ${url.pathname} failed with HTTP ${status}: ${json?.message ?? text.slice(0, 200)}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutSeconds}s`)));
      req.on('error', error => reject(new KubeApiError(0, `Kubernetes API at ${cluster.url} is unreachable: ${error.message}`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}
