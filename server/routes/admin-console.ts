import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { pageAnswers } from '../../contract/pages.ts';
import { ApiError } from '../errors.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { RouteModule } from '../http/services.ts';

const tags = ['admin'];

/**
 * The console's policy: its own scripts, styles and API only; nothing inline, no frames. The
 * console keeps the admin's token, so no other origin may run code in it or frame it.
 */
const CONSOLE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** What a built asset's name may be: Vite's hashed file names, nothing that climbs a folder. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** The built page, or null when the console has not been built in this installation. */
async function readBuilt(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function notBuilt(reply: FastifyReply) {
  return sendPage(
    reply,
    'The admin console is not built',
    html`<h1>The admin console is not built</h1>
<p>This relay has no build of the admin console. <code>npm start</code> builds it; on a server, run
<code>npm run build:admin</code> in the relay's folder (or set <code>ADMIN_DIR</code> to where the build is), then reload this page.</p>`,
    { status: 503 },
  );
}

/**
 * The admin console (issue #17): a single-page app, built by Vite into ADMIN_DIR, served here. It
 * is public as files are: everything it shows comes from the API, which checks the admin's token
 * and role on every call.
 */
export const adminConsoleRoutes: RouteModule = (app, { config }) => {
  const access = publicRoute(
    'the admin console page and its built files; the API behind it checks every call',
  );
  const index = async (_request: unknown, reply: FastifyReply) => {
    const page = await readBuilt(path.join(config.adminDir, 'index.html'));
    if (page === null) return notBuilt(reply);
    return reply
      .header('content-security-policy', CONSOLE_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(page);
  };
  for (const url of ['/admin', '/admin/'])
    app.get(
      url,
      {
        config: access,
        schema: {
          summary: 'The admin console',
          description: 'A web page where admins run the org: users, review queue, audit log, reports.',
          tags,
          response: pageAnswers,
        },
      },
      index,
    );

  app.get(
    '/admin/assets/:file',
    {
      config: access,
      schema: {
        summary: "The admin console's built scripts and styles",
        tags,
        params: Type.Object({ file: Type.String({ maxLength: 200 }) }),
        response: { 200: Type.String({ description: 'JavaScript, CSS or a source map' }), ...errorResponses },
        'x-error-codes': ['NOT_FOUND'],
      },
    },
    async (request, reply) => {
      const { file } = request.params;
      const type = TYPES[path.extname(file)];
      const missing = () => new ApiError(404, 'NOT_FOUND', `The admin console has no file named ${file}.`);
      if (!ASSET_NAME.test(file) || file.includes('..') || type === undefined) throw missing();
      const body = await readBuilt(path.join(config.adminDir, 'assets', file));
      if (body === null) throw missing();
      return (
        reply
          .type(type)
          .header('x-content-type-options', 'nosniff')
          // Vite names each build's files by their content: a name never changes what it holds.
          .header('cache-control', 'public, max-age=31536000, immutable')
          // The type provider knows the schema's string; the file's bytes go as they are.
          .send(body as unknown as string)
      );
    },
  );
};
