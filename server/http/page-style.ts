// The one stylesheet of every page the relay renders (setup, joining, SSO, sandbox tools, errors),
// served at /assets/pages.css so the pages' policy can refuse inline styles.

export const PAGES_CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 16px; }
body { margin: 0; background: #f5f7fa; color: #1f2933; line-height: 1.5; }
main { max-width: 760px; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.4rem; margin-top: 0; }
h2 { font-size: 1.1rem; }
label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
.hint { display: block; font-weight: 400; color: #52606d; font-size: .9rem; }
input, textarea, select { font: inherit; padding: .5rem; width: 100%; box-sizing: border-box;
       border: 1px solid #9aa5b1; border-radius: 4px; }
input[aria-invalid="true"] { border-color: #a61b1b; }
button, .button { font: inherit; display: inline-block; margin-top: 1rem; padding: .5rem 1rem; border: 0;
       border-radius: 4px; background: #0b5cad; color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #e4e7eb; color: #1f2933; margin-left: .5rem; }
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible {
       outline: 3px solid #f0b429; outline-offset: 2px; }
code, .secret { font-family: ui-monospace, monospace; background: #eef2f7; padding: .1rem .3rem; border-radius: 3px;
       word-break: break-all; }
.secret { display: inline-block; padding: .5rem; font-size: 1rem; }
.error, .field-error { color: #a61b1b; }
.field-error { margin: .25rem 0 0; }
.notice { border-left: 4px solid #0b5cad; background: #eef2f7; padding: .75rem 1rem; border-radius: 4px; }
.notice.problem { border-left-color: #a61b1b; background: #fdecec; }
.muted { color: #52606d; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .4rem; border-bottom: 1px solid #e4e7eb; }
pre { white-space: pre-wrap; word-break: break-word; }
.mail-body a { word-break: break-all; }
.phone-thread { margin-top: 1rem; border: 1px solid #e4e7eb; border-radius: 6px; padding: 1rem; min-height: 12rem;
       max-height: 28rem; overflow: auto; background: #f9fafb; }
`;
