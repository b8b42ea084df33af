import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Why this route takes application/x-www-form-urlencoded bodies (a provider posts forms, or a
     * plain HTML page does). Every other route refuses them: a form is the one body any web page
     * can make a browser send cross-site without asking (issue #13, finding 6).
     */
    formBody?: string;
  }
}

function parseForm(body: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(body)) if (!(key in params)) params[key] = value;
  return params;
}

/** The content-type parser for form bodies: parses them on routes declaring `formBody`, else 415. */
export function formBodyParser(
  request: FastifyRequest,
  body: string | Buffer,
  done: (error: Error | null, body?: unknown) => void,
): void {
  const { url, config } = request.routeOptions;
  // An unknown URL still answers 404 rather than 415.
  if (url !== undefined && config.formBody === undefined) {
    done(
      new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'This route takes JSON (Content-Type: application/json), not a form body.',
      ),
    );
    return;
  }
  done(null, parseForm(String(body)));
}
