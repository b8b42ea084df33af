import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import { type TestRelay, testRelay } from '../helpers/relay.ts';

// The admin console's page and built files (issue #17), served from ADMIN_DIR. The API behind the
// console is tested route by route; here: the page's policy, its files, and what cannot be fetched.

describe('the admin console route', () => {
  let relay: TestRelay;
  let unbuilt: TestRelay;
  beforeAll(async () => {
    relay = await testRelay(await freshPglite());
    unbuilt = await testRelay(await freshPglite(), { config: { adminDir: '/nonexistent/admin-build' } });
  });
  afterAll(async () => {
    for (const r of [relay, unbuilt]) {
      await r.close();
      await r.db.close();
    }
  });

  it('serves the page with a policy that allows only its own scripts, styles and API, and no framing', async () => {
    for (const url of ['/admin', '/admin/']) {
      const page = await relay.app.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('/admin/assets/console-test.js');
      const policy = String(page.headers['content-security-policy']);
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("style-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe-inline');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('serves a built file with its type, cached for good as its name is its content', async () => {
    const file = await relay.app.inject({ method: 'GET', url: '/admin/assets/console-test.js' });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/javascript/);
    expect(file.headers['cache-control']).toContain('immutable');
    expect(file.body).toContain("textContent = 'admin console'");
  });

  it('never reads outside the build: climbing, encoded climbing, other types and missing files are 404', async () => {
    for (const url of [
      '/admin/assets/..%2Findex.html',
      '/admin/assets/..%2F..%2F..%2Fpackage.json',
      '/admin/assets/%2Fetc%2Fpasswd',
      '/admin/assets/index.html',
      '/admin/assets/.hidden.js',
      '/admin/assets/missing-1234.js',
    ]) {
      const answer = await relay.app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json().error.code, url).toBe('NOT_FOUND');
    }
  });

  it('says how to build the console when this installation has no build', async () => {
    const page = await unbuilt.app.inject({ method: 'GET', url: '/admin', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build:admin');
    const file = await unbuilt.app.inject({ method: 'GET', url: '/admin/assets/index-abc.js' });
    expect(file.statusCode).toBe(404);
  });
});
