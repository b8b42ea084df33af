import { DOMParser, type Element } from '@xmldom/xmldom';

/** SAML's XML namespaces. */
export const NS_MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
export const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
export const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** Parses XML; null when it is not well-formed. */
export function parseXml(xml: string) {
  let failed = false;
  const doc = new DOMParser({
    onError: (level) => {
      if (level !== 'warning') failed = true;
    },
  }).parseFromString(xml, 'text/xml');
  if (failed || doc.documentElement === null) return null;
  return doc;
}

/** The descendants of an element with this namespace and local name. */
export function children(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName));
}
