import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TAGS } from '../../server/routes/api-docs.ts';
import { freshPgliteRelay, type TestRelay } from '../helpers/relay.ts';

// Issue #14, step 4: one wire contract. The relay serves its OpenAPI document and a reference page
// built from it, and the document covers every route an integrator can call.

let relay: TestRelay;
beforeAll(async () => {
  relay = await freshPgliteRelay();
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

interface Operation {
  tags?: string[];
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/**
 * Every "METHOD /path" the real app's router holds (HEAD twins left out), read from printRoutes:
 * each line is a tree node whose text continues its parent's path.
 */
function registeredRoutes(printout: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of printout.split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = Math.floor(at / 4);
    const match = /^(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3).trim());
    if (match === null) continue;
    stack.length = depth;
    stack.push(match[1] as string);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (match[2] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

async function openapi(): Promise<Document> {
  const answer = await relay.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  return answer.json() as Document;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI, as swagger-parser checks it', async () => {
    const document = await openapi();
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it("documents every registered route's success answer (sandbox tools aside)", async () => {
    const document = await openapi();
    const routes = registeredRoutes(relay.app.printRoutes({ commonPrefix: false }));
    expect(routes).toContain('POST /v1/messages');
    expect(routes).toContain('GET /v1/conversations/{id}/messages');
    // /sandbox tools exist only with SMS_PROVIDER=sandbox; the document has one shape for every relay.
    const uncovered = routes
      .filter((route) => !route.includes(' /sandbox'))
      .filter((route) => {
        const [method, path] = route.split(' ') as [string, string];
        const responses = document.paths[path]?.[method.toLowerCase()]?.responses ?? {};
        return !Object.entries(responses).some(
          // A body needs its schema; 204 and redirects carry none, so their status is the whole answer.
          ([status, response]) =>
            (/^2/.test(status) && response.content !== undefined) ||
            status === '204' ||
            /^30[1-8]$/.test(status),
        );
      });
    expect(
      uncovered,
      `routes without a documented success (2xx schema, 204 or redirect):\n${uncovered.join('\n')}`,
    ).toEqual([]);
  });

  it('leaves the sandbox tools out, so its shape does not depend on the SMS provider', async () => {
    const document = await openapi();
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/sandbox'))).toEqual([]);
  });

  it('tags every operation with one of the areas the reference lists', async () => {
    const document = await openapi();
    const areas = new Set<string>(API_TAGS.map((tag) => tag.name));
    const untagged = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.tags?.length !== 1 || !areas.has(op.tags[0] as string))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(untagged, `operations without exactly one known tag:\n${untagged.join('\n')}`).toEqual([]);
  });
});

describe('the API reference page', () => {
  it('renders every area and route from the same document, under the house CSP and with no script', async () => {
    const answer = await relay.app.inject({ method: 'GET', url: '/docs' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
    expect(answer.body).not.toMatch(/<script|https?:\/\/(?!relay\.test)[^"'\s<]*\.(js|css)/);
    for (const tag of ['messages', 'conversations', 'contacts', 'consent', 'docs']) {
      expect(answer.body).toContain(`id="tag-${tag}"`);
    }
    expect(answer.body).toContain('POST /v1/messages');
    expect(answer.body).toContain('GET /v1/conversations/{id}/messages');
    expect(answer.body).toContain('href="#post-v1-messages"');
    expect(answer.body).toContain('id="post-v1-messages"');
    expect(answer.body).not.toContain('/sandbox/phone');
    // A route's documented error codes and a nullable field's description are on the page.
    expect(answer.body).toContain('<code>IDEMPOTENCY_KEY_REQUIRED</code>');
    expect(answer.body).toMatch(
      /<code>scheduledFor<\/code> <span class="muted">string \| null<\/span> — A queued text/,
    );
  });

  it('says who may call each route', async () => {
    const answer = await relay.app.inject({ method: 'GET', url: '/docs' });
    expect(answer.body).toMatch(
      /Who may call it: API key or session with the &#34;messages\.send&#34; permission/,
    );
    expect(answer.body).toContain('Who may call it: public (the API reference integrators read)');
  });
});
