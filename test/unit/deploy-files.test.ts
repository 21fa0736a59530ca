import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULTS } from '../../src/config.js';

/**
 * The deploy files (Dockerfile, deploy/compose.yaml, deploy/k8s/, deploy/nginx/) are checked by
 * what runs here: no container engine or cluster, so their shape is asserted against the server's
 * own settings, and nginx (Debian's package) validates the shipped server block.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (relative: string) => fs.readFileSync(path.join(ROOT, relative), 'utf8');
const SOURCES = fs
  .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts'))
  .map((name) => fs.readFileSync(path.join(ROOT, 'src', name), 'utf8'))
  .join('\n');

type Manifest = { kind: string; metadata: { name: string }; spec: Record<string, any> };
const manifests = (): Manifest[] =>
  fs
    .readdirSync(path.join(ROOT, 'deploy', 'k8s'))
    .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
    .flatMap((name) => parseAllDocuments(read(`deploy/k8s/${name}`)).map((doc) => doc.toJS() as Manifest));
const byKind = (kind: string) => manifests().filter((manifest) => manifest.kind === kind);

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in one stage and runs production dependencies only, as a non-root user, with a health check', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cli\/main.js"\]$/m);
  });
});

describe('deploy/k8s', () => {
  it('lists every manifest in its kustomization', () => {
    const listed = (parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] }).resources;
    const files = fs.readdirSync(path.join(ROOT, 'deploy', 'k8s')).filter((name) => name !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(files.sort());
  });

  it('probes /readyz and /healthz and gives a stopping pod more than the whole drain', () => {
    const [deployment] = byKind('Deployment');
    const pod = deployment!.spec.template.spec;
    const [container] = pod.containers;
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    const [config] = byKind('ConfigMap');
    const shutdownMs = Number((config as unknown as { data: Record<string, string> }).data.SHUTDOWN_TIMEOUT_MS);
    expect(shutdownMs).toBe(DEFAULTS.SHUTDOWN_TIMEOUT_MS);
    const preStopMs = container.lifecycle.preStop.sleep.seconds * 1000;
    const listenerGraceMs = 1000;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + shutdownMs + listenerGraceMs);
    expect(deployment!.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('has a disruption budget, a CPU autoscaler, a migration job and the keys in a Secret', () => {
    expect(byKind('PodDisruptionBudget')[0]!.spec.minAvailable).toBe(2);
    const hpa = byKind('HorizontalPodAutoscaler')[0]!;
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const job = byKind('Job')[0]!;
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
    const secret = byKind('Secret')[0] as unknown as { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData)).toEqual(
      expect.arrayContaining(['PARLEY_SECRET_KEY', 'DATABASE_URL', 'REDIS_URL']),
    );
  });

  it('names only settings the server reads', () => {
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> };
    const secret = byKind('Secret')[0] as unknown as { stringData: Record<string, string> };
    for (const name of [...Object.keys(config.data), ...Object.keys(secret.stringData)]) {
      expect(SOURCES, name).toContain(`'${name}'`);
    }
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, any> };

  it('runs three Parley processes on one PostgreSQL and one Redis behind nginx, migrating first', () => {
    const parleys = Object.keys(compose.services).filter((name) => /^parley-\d$/.test(name));
    expect(parleys).toEqual(['parley-1', 'parley-2', 'parley-3']);
    for (const name of parleys) {
      const service = compose.services[name];
      expect(service.environment.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(service.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(service.depends_on.migrate.condition).toBe('service_completed_successfully');
      for (const setting of Object.keys(service.environment)) expect(SOURCES, setting).toContain(`'${setting}'`);
    }
    expect(compose.services.migrate.command).toEqual(['migrate']);
    const upstream = read('deploy/nginx/upstream.conf');
    for (const name of parleys) expect(upstream).toContain(`server ${name}:8080`);
  });
});

describe('deploy/nginx/parley.conf', () => {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => fs.existsSync(candidate));

  it('is accepted by nginx with an upstream beside it', () => {
    expect(nginx, 'nginx is installed (.ci/run installs Debian nginx)').toBeDefined();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
    const shipped = read('deploy/nginx/parley.conf').replaceAll('listen 8080;', 'listen 127.0.0.1:18080;');
    fs.writeFileSync(path.join(directory, 'parley.conf'), shipped.replace(/^\s*listen \[::\]:8080;$/m, ''));
    fs.writeFileSync(
      path.join(directory, 'nginx.conf'),
      [
        'pid nginx.pid; error_log stderr; daemon off;',
        'events {}',
        'http { access_log off;',
        '  upstream parley { server 127.0.0.1:1; keepalive 8; }',
        `  include ${path.join(directory, 'parley.conf')};`,
        '}',
      ].join('\n'),
    );
    const output = execFileSync(nginx!, ['-t', '-p', directory, '-c', path.join(directory, 'nginx.conf')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).toBe('');
  });
});
