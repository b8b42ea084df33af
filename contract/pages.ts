import { Type } from 'typebox';
import { ErrorBody } from './errors.ts';

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

/**
 * The refusals of a page a person uses: an HTML page for a browser (which asks for text/html),
 * the error envelope for an API client.
 */
export const pageRefusal = {
  description: 'A page saying what went wrong and what to do (browsers), or the error envelope',
  content: { 'text/html': { schema: HtmlPage }, 'application/json': { schema: ErrorBody } },
} as const;

/** The answers of a page route: the page, its refusals as pages or envelopes, server errors. */
export const pageAnswers = { 200: htmlResponse, '4xx': pageRefusal, '5xx': ErrorBody } as const;
