-- Issue #17: the admin console signs in through SAML too. A sign-in started by the console asks the
-- relay to send the one-time code back to the console's own page (/admin) instead of the extension's
-- "you are signed in" page; the relay keeps that choice with the request, so the IdP's answer (which
-- anyone can post) cannot pick where the code goes. Only the relay's own pages are possible targets.
ALTER TABLE saml_requests ADD COLUMN return_to text CHECK (return_to IN ('console'));
