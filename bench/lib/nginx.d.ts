/** Types of bench/lib/nginx.js, for the TypeScript test helpers that use it. */
export declare const NGINX_BINARY: string | undefined;

export interface Nginx {
  baseUrl: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export declare function startNginx(upstreamPorts: readonly number[]): Promise<Nginx>;
