import { Type } from 'typebox';

/** Answers that are not JSON (pages, redirects), described for the API reference. */

/** An HTML page the relay serves to a person (setup, sandbox tools, SSO). */
export const HtmlPage = Type.String({ description: 'An HTML page (text/html)' });

/** A 200 answer that is an HTML page, declared under its own content type. */
export const htmlResponse = {
  description: 'An HTML page',
  content: { 'text/html': { schema: HtmlPage } },
} as const;

/** A redirect: no body; the Location header says where. */
export const Redirect = Type.Unsafe<undefined>({
  type: 'null',
  description: 'A redirect; the Location header says where',
});

/** A script the relay serves to one of its own pages. */
export const ScriptFile = Type.String({ description: 'JavaScript source (text/javascript)' });
