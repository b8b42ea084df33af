import { Type } from 'typebox';

/** An HTML page the relay serves to a person (setup, sandbox tools). */
export const HtmlPage = Type.String({ description: 'An HTML page (text/html)' });

/** A script the relay serves to one of its own pages. */
export const ScriptFile = Type.String({ description: 'JavaScript source (text/javascript)' });
