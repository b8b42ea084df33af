import type { FastifyReply } from 'fastify';
import { type Html, html, sendPage } from './html.ts';

/** The parts of an OpenAPI document the reference page reads. */
export interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** One operation of the document, with the `x-access` and `x-error-codes` the relay adds. */
export interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  'x-access'?: string;
  'x-error-codes'?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

type JsonSchema = { [key: string]: unknown };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const MAX_DEPTH = 5;

interface Entry {
  method: string;
  path: string;
  op: OpenApiOperation;
}

function anchor(...parts: string[]): string {
  return parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** A schema's type in a few words: `string (uuid)`, `"card" | "ssn"`, `array of object`. */
function typeOf(schema: JsonSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map(typeOf).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : String(schema.type ?? 'any');
  if (type === 'array' && typeof schema.items === 'object' && schema.items !== null) {
    return `array of ${typeOf(schema.items as JsonSchema)}`;
  }
  return typeof schema.format === 'string' ? `${type} (${schema.format})` : type;
}

/** The object schema whose fields a row lists: the schema itself, its array items, or a union's one object. */
function fieldsHolder(schema: JsonSchema): JsonSchema | null {
  if (typeof schema.properties === 'object' && schema.properties !== null) return schema;
  if (typeof schema.items === 'object' && schema.items !== null)
    return fieldsHolder(schema.items as JsonSchema);
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  const objects = Array.isArray(union) ? union.filter((s) => fieldsHolder(s) !== null) : [];
  return objects.length === 1 ? fieldsHolder(objects[0] as JsonSchema) : null;
}

/** A field's description, or that of the one described member of a nullable union. */
function descriptionOf(schema: JsonSchema): string | null {
  if (typeof schema.description === 'string') return schema.description;
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  const described = Array.isArray(union) ? union.find((s) => typeof s.description === 'string') : undefined;
  return described === undefined ? null : (described.description as string);
}

/** An object schema's fields as a nested list: name, type, required or optional, description. */
function fieldList(schema: JsonSchema, depth = 0): Html {
  const holder = fieldsHolder(schema);
  if (holder === null || depth >= MAX_DEPTH) return html``;
  const required = new Set(Array.isArray(holder.required) ? (holder.required as string[]) : []);
  const properties = holder.properties as Record<string, JsonSchema>;
  return html`<ul>${Object.entries(properties).map(
    ([name, field]) =>
      html`<li><code>${name}</code> <span class="muted">${typeOf(field)}${required.has(name) ? '' : ', optional'}</span>${
        descriptionOf(field) === null ? '' : html` — ${descriptionOf(field)}`
      }${fieldList(field, depth + 1)}</li>`,
  )}</ul>`;
}

function parametersOf(op: OpenApiOperation): Html {
  const params = op.parameters ?? [];
  if (params.length === 0) return html``;
  return html`<h4>Parameters</h4><ul>${params.map(
    (p) =>
      html`<li><code>${p.name}</code> <span class="muted">in ${p.in}, ${p.schema ? typeOf(p.schema) : 'any'}${
        p.required === true ? '' : ', optional'
      }</span>${p.description ? html` — ${p.description}` : ''}</li>`,
  )}</ul>`;
}

function bodyOf(op: OpenApiOperation): Html {
  const content = Object.entries(op.requestBody?.content ?? {});
  return html`${content.map(
    ([type, { schema }]) =>
      html`<h4>Request body <span class="muted">(${type})</span></h4>${schema ? fieldList(schema) : ''}`,
  )}`;
}

function responsesOf(op: OpenApiOperation): Html {
  const rows = Object.entries(op.responses ?? {});
  return html`<h4>Responses</h4><ul>${rows.map(([status, response]) => {
    const schema = Object.values(response.content ?? {})[0]?.schema;
    return html`<li><strong>${status}</strong> ${response.description ?? ''}${
      schema && !status.startsWith('4') && !status.startsWith('5') ? fieldList(schema) : ''
    }</li>`;
  })}</ul>${
    op['x-error-codes'] && op['x-error-codes'].length > 0
      ? html`<p>Error codes: ${op['x-error-codes'].map((code, i) => html`${i > 0 ? ', ' : ''}<code>${code}</code>`)}</p>`
      : ''
  }`;
}

function operation({ method, path, op }: Entry): Html {
  const id = anchor(method, path);
  return html`<section aria-labelledby="${id}">
    <h3 id="${id}"><code>${method.toUpperCase()} ${path}</code></h3>
    <p>${op.summary ?? ''}</p>${op.description ? html`<p class="muted">${op.description}</p>` : ''}
    <p>Who may call it: ${op['x-access'] ?? 'see description'}</p>
    ${parametersOf(op)}${bodyOf(op)}${responsesOf(op)}
  </section>`;
}

/** Operations grouped under the document's tags, in the tags' order; untagged ones last. */
function byTag(doc: OpenApiDoc): { name: string; description: string; entries: Entry[] }[] {
  const groups = (doc.tags ?? []).map((t) => ({
    name: t.name,
    description: t.description ?? '',
    entries: [] as Entry[],
  }));
  const other = { name: 'other', description: 'Routes that name no area.', entries: [] as Entry[] };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const group = groups.find((g) => op.tags?.includes(g.name)) ?? other;
      group.entries.push({ method, path, op });
    }
  }
  return [...groups, other].filter((g) => g.entries.length > 0);
}

/** Sends the API reference page: a table of contents with anchor links, then every route per area. */
export function renderApiReference(reply: FastifyReply, doc: OpenApiDoc) {
  const groups = byTag(doc);
  const body = html`<h1>${doc.info.title} API reference <span class="muted">${doc.info.version}</span></h1>
    <p>${doc.info.description ?? ''} The machine-readable document is at <a href="/openapi.json"><code>/openapi.json</code></a>.
      Errors always come as <code>{ "error": { "code", "message", "details"? } }</code>.</p>
    <nav aria-label="Contents"><h2>Contents</h2><ul>${groups.map(
      (g) =>
        html`<li><a href="#${anchor('tag', g.name)}">${g.name}</a><ul>${g.entries.map(
          (e) =>
            html`<li><a href="#${anchor(e.method, e.path)}"><code>${e.method.toUpperCase()} ${e.path}</code></a></li>`,
        )}</ul></li>`,
    )}</ul></nav>
    ${groups.map(
      (g) =>
        html`<section aria-labelledby="${anchor('tag', g.name)}"><h2 id="${anchor('tag', g.name)}">${g.name}</h2>
          <p class="muted">${g.description}</p>${g.entries.map(operation)}</section>`,
    )}`;
  return sendPage(reply, `${doc.info.title} API reference`, body);
}
