import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { ScriptFile } from '../../contract/pages.ts';
import { publicRoute } from '../http/access.ts';
import { PAGES_STYLESHEET } from '../http/html.ts';
import { PAGES_CSS } from '../http/page-style.ts';
import type { RouteModule } from '../http/services.ts';

/** Where pages load the copy button's script (the pages' policy allows scripts from the relay only). */
export const COPY_BUTTON_SCRIPT = '/assets/copy-button.js';

// A button with data-copy="<element id>" copies that element's text and says so in its status.
const COPY_BUTTON_JS = `
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const target = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copy + '-status');
    try {
      await navigator.clipboard.writeText(target.textContent.trim());
      status.textContent = 'Copied to the clipboard.';
    } catch {
      status.textContent = 'Copying is not allowed here: select the text and copy it yourself.';
    }
  });
}
`;

/** The shared stylesheet and script of the relay's own pages; cacheable, public, no secrets. */
export const pageAssetRoutes: RouteModule = (app) => {
  const access = publicRoute('static stylesheet and script of the relay pages');
  app.get(
    PAGES_STYLESHEET,
    {
      config: access,
      schema: {
        summary: 'Stylesheet of the relay pages',
        tags: ['setup'],
        response: { 200: Type.String({ description: 'CSS (text/css)' }), ...errorResponses },
      },
    },
    async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(PAGES_CSS),
  );
  app.get(
    COPY_BUTTON_SCRIPT,
    {
      config: access,
      schema: {
        summary: 'Copy button script of the relay pages',
        tags: ['setup'],
        response: { 200: ScriptFile, ...errorResponses },
      },
    },
    async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(COPY_BUTTON_JS),
  );
};
