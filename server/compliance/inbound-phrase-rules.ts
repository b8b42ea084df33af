/**
 * The inbound classifier's plain-language rules (#4, #14), checked per clause: revocations the
 * FCC presumes from "any reasonable means", partial limits that go to a person, HELP
 * questions and re-subscription in words.
 */
import type { InboundLabel } from './inbound-label.ts';
import { PER_SE_VERBS } from './opt-out-lexicon.ts';

const TIME_QUALIFIER =
  /\b(after|before|during|between|until|till|til|past|on weekends?|on the weekend|on sundays?|on saturdays?|at night|in the (morning|evening|afternoon)|at work|while|when|tonight|today|this week)\b/;
const SOFT_DECLINE =
  /\b(right now|for now|at the moment|at this time|currently|yet|maybe|perhaps|later|next (week|month|quarter|year|time)|another time|this (year|quarter|month))\b/;

/** One plain-language rule: the label it gives, the pattern that finds it and why, for the reviewer. */
export interface PhraseRule {
  id: string;
  label: InboundLabel;
  pattern: RegExp;
  reason: string;
  /** The rule applies only when this does not match the whole message. */
  unless?: RegExp;
}

/** Plain-language rules, checked per clause; the strongest label found wins. */
export const PHRASE_RULES: PhraseRule[] = [
  // Revocations the FCC presumes from "any reasonable means".
  {
    id: 'take-me-off',
    label: 'opt_out',
    pattern:
      /\b(take|get|drop|delete|erase|scratch|remove|unsubscribe|unsub|opt) (me|us|this number|my number) (off|from|out)\b/,
    reason: 'asks to be taken off the list',
  },
  {
    id: 'off-list',
    label: 'opt_out',
    pattern: /\boff (your|the|ur|this|that|ya) (\w+ )?list\b/,
    reason: 'asks to be taken off the list',
  },
  {
    id: 'do-not-list',
    label: 'opt_out',
    pattern:
      /\b(do not|don't|dont|no) (call|text|txt|contact|message|msg|sms|email|solicit)( me)? list\b|\bdnc\b/,
    reason: 'asks for the do-not-contact list',
  },
  {
    id: 'do-not-message',
    label: 'opt_out',
    pattern:
      /\b(do not|don't|dont|never|pls don't|please don't|stop|quit|cease) (ever )?(text|txt|message|msg|contact|sms|spam|call|write|bother|bug|email|send|sending|disturb)(ing)?\b/,
    unless: TIME_QUALIFIER,
    reason: 'tells the sender not to text or contact them',
  },
  {
    id: 'no-more-messages',
    label: 'opt_out',
    pattern:
      /\bno (more|further)( \w+){0,2} (texts?|texting|messages?|msgs?|sms|spam|calls?|contact|reminders?|notifications?|alerts?|links?|promos?|marketing)\b|\bno more\b.*\b(by|via|through) (text|sms)\b/,
    reason: 'asks for no more messages',
  },
  {
    id: 'no-texts',
    label: 'opt_out',
    pattern: /^(no|not) (texts?|texting|sms|messages|msgs|text messages)( please| pls| thanks)?$/,
    reason: 'asks for no texts',
  },
  {
    id: 'dont-want',
    label: 'opt_out',
    pattern:
      /\b(do not|don't|dont|no longer|never) (want|wish|need|like)( to)?( (receive|get|have|be))?( any)?( more| further)?( of)?( (these|your|the|this|those|such))? (texts?|messages?|msgs|sms|spam|notifications|reminders|calls|contacted|texted|messaged|emails?)\b/,
    reason: 'says they do not want the messages',
  },
  {
    id: 'want-out',
    label: 'opt_out',
    pattern:
      /\b(want|wanna|need|would like|'d like|wish|like) (to )?(be )?(out|optout|opted out|unsubscribed|unsubscribe|removed|off (the|this|your|ur) list|taken off)\b/,
    reason: 'says they want out',
  },
  {
    id: 'revoke-consent',
    label: 'opt_out',
    pattern:
      /\b(revoke|withdraw|rescind|cancel|retract|remove|pull) (my |all |any |the )?(consent|permission|authorization|authorisation|agreement to)\b/,
    reason: 'revokes consent in words',
  },
  {
    id: 'leave-alone',
    label: 'opt_out',
    pattern:
      /\b(leave me alone|go away|get lost|buzz off|piss off|back off|shut up|screw (you|off)|lose my number|delete my (number|info|contact|details)|forget my number)\b|\bf(\*+|u?c?k+|ck|rick|ing|u+)? ?off\b|\bfuck (you|off)\b|\bstfu\b/,
    reason: 'tells the sender to go away',
  },
  {
    id: 'idiom',
    label: 'opt_out',
    pattern:
      /^((please|pls|plz|just|ok|okay|seriously|so|now|and|oh|hey) )*(cut|knock|cool) it( out| off)?( already| now| please| pls)?$|\b(cut|knock) it (out|off)\b(?! of\b)|\bgive it a rest\b|\b(i'm|im|i am|we're|we are) (so |totally |officially |really )?(done|finished|through) with (these|your|the|this|all|all the|all these|you and your) ?(\w+ )?(texts?|messages?|msgs|texting|spam|sms)\b/,
    reason: 'an idiom for "stop" aimed at the messages',
  },
  {
    id: 'spam-complaint',
    label: 'opt_out',
    pattern:
      /\b(report(ed|ing)?|flag(ged|ging)?|mark(ed|ing)?) (you |this |it |your number |this number )?(as |for )?spam\b|\b(this is|that's|so much|enough|stop|quit|with the|more) spam\b|\bspammer\b/,
    reason: 'complains of spam',
  },
  {
    id: 'blocking',
    label: 'opt_out',
    pattern:
      /\b(block(ing|ed)?) (you|this|your|the|ur)( number| #| sender| phone)?\b|\bi('m| am)? blocking\b|^(blocked|blocking|reported|spam)$/,
    reason: 'says they are blocking the sender',
  },
  {
    id: 'enough-texts',
    label: 'opt_out',
    pattern:
      /\benough (with |of )?(the |these |your |all )?(texts?|messages?|msgs|spam|sms|texting|messaging|already)\b/,
    reason: 'says enough of the messages',
  },
  {
    id: 'never-signed-up',
    label: 'opt_out',
    pattern:
      /\b(didn't|did not|didnt|never|don't remember) (ever )?(sign(ed)? up|subscribe[d]?|opt(ed)? ?in|optin|ask(ed)? for (this|these|it|them|texts|messages)|consent(ed)?|agree[d]?|give (you )?(my )?(number|permission|consent)|gave (you )?(my )?(number|permission|consent))\b/,
    reason: 'never gave consent',
  },
  {
    id: 'wrong-number',
    label: 'opt_out',
    pattern:
      /\bwrong (number|person|guy|girl|contact|phone|#|no)\b|\b(not|isn't|is not|no longer|aint) (my|his|her|their) (number|phone|cell)\b|\bnot (him|her|them)\b.*\bnumber\b|\bno one (here )?(by|named|with) that name\b|\bnot the (person|guy|one|right person)\b|\b(you('ve| have)?|u) (got |have )?the wrong\b|\bnew (owner|number)\b.*\bnumber\b/,
    reason: 'wrong number: the recipient never consented (and the reassigned-number check applies)',
  },
  {
    id: 'channel-switch',
    label: 'opt_out',
    pattern:
      /\b(email|e mail|call|phone|mail|letter)s? (me )?(only|instead)\b|\bonly (by )?(email|e mail|call|phone|mail)\b|\binstead of (texting|texts?|sms|messaging|messages)\b|\b(prefer|rather) (you )?(email|call|phone|mail)\b.*\b(not?|instead)\b|\bno (texting|text messages)\b/,
    reason: 'asks to be contacted on another channel instead of texts',
  },
  {
    id: 'not-interested',
    label: 'opt_out',
    pattern: /\b(not|no longer|never|aren't|isn't) interested\b|\bno interest\b/,
    unless: SOFT_DECLINE,
    reason: 'not interested',
  },
  {
    id: 'already-told',
    label: 'opt_out',
    pattern:
      /\b(said|told (you|u|ya)|asked (you|u|ya))( (already|before|twice|once|again|(several|many|multiple|\d+) times))? (to )?(stop|quit|unsubscribe|optout|remove me|leave me alone|not text|not to text)\b(?! (by|at|in|over)\b)/,
    reason: 'says they already asked to stop',
  },
  {
    id: 'make-it-stop',
    label: 'opt_out',
    pattern:
      /\b(texts?|messages?|spam|this|these|it|they) (need|needs|has|have|must|should|gotta|got) to (stop|end)\b/,
    reason: 'says the messages must stop',
  },
  // Other languages.
  {
    id: 'spanish',
    label: 'opt_out',
    pattern:
      /\bno mas\b|\bsin (mas )?mensajes\b|\bno (me )?interesa\b|\b(deja|dejen|deje|para|pare|paren) de (enviar|mandar|escribir|textear|llamar|molestar)\w*\b|\bno (me )?(envie|envies|envien|mande|mandes|manden|escriba|escribas|escriban|contacte|contactes|llames|llame|molestes|moleste)\b|\b(darme|dar|dame|deme|denme) de baja\b|\bno quiero (recibir )?(mas )?(mensajes|textos|sms)\b|\b(cancelar|eliminar) (mi )?(suscripcion|numero)\b/,
    reason: 'Spanish revocation',
  },
  {
    id: 'french',
    label: 'opt_out',
    pattern:
      /\b(arret|arrete|arretez|arreter)\b|\bne (m'|me )?(envoyez|ecrivez|contactez|texte[sz]?) plus\b|\bplus de (messages|sms|textos)\b|\b(desabonn|desinscri)\w*\b/,
    reason: 'French revocation',
  },
  {
    id: 'portuguese',
    label: 'opt_out',
    pattern:
      /\b(pare|parem|parar) de (enviar|mandar|mensagens|escrever)\b|\bnao (quero|envie|mande|me mande|me envie)\b|\bdescadastr\w*\b/,
    reason: 'Portuguese revocation',
  },
  {
    id: 'german',
    label: 'opt_out',
    pattern:
      /\b(abmelden|abbestellen|aufhoren|hor auf|horen sie auf)\b|\bkeine (nachrichten|sms|werbung|texte) mehr\b/,
    reason: 'German revocation',
  },
  {
    id: 'italian',
    label: 'opt_out',
    pattern:
      /\bbasta\b|\b(disiscriv|cancellami)\w*\b|\bnon (mandate|inviate|scrivete|voglio) (piu )?(messaggi|sms)\b/,
    reason: 'Italian revocation',
  },

  // Not a full revocation: pause automated sends and ask a person.
  {
    id: 'time-restriction',
    label: 'ambiguous',
    pattern:
      /\b(don't|do not|dont|no|not|never|only|just) (text|txt|message|msg|call|contact)(s|ing)?( me)?( \w+)? (after|before|during|between|until|till|past|on|at|in the|while|when|tonight|today)\b|^(not|only) (on|during|after|before|at) /,
    reason: 'limits when to text rather than revoking',
  },
  {
    id: 'soft-decline',
    label: 'ambiguous',
    pattern:
      /\b(maybe|perhaps) (later|another time|next|in)\b|\bnot (right )?now\b|\bnot at (this|the moment)\b|\bnot interested\b/,
    reason: 'a soft decline, not clearly a revocation',
  },
  {
    id: 'how-did-you-get',
    label: 'ambiguous',
    pattern:
      /\b(how|where) did (you|u|ya|they) get (my|this) (number|info|information|contact|cell|phone|details)\b|\bwho gave (you|u) (my|this) (number|info)\b/,
    reason: 'questions where the number came from',
  },
  {
    id: 'why-texting',
    label: 'ambiguous',
    pattern:
      /\bwhy (do|are|does|did) (you|u|ya|this number) (keep )?(keep )?(texting|messaging|contacting|text|message|sending)\b/,
    reason: 'annoyed at the messages without asking to stop',
  },
  {
    id: 'other-contact',
    label: 'ambiguous',
    pattern:
      /\b(contact|text|call|email|message|reach out to|talk to|speak (to|with)|ask) \w+( \w+)? instead\b|\bno longer (works?|with (the|this) company)\b|\b(left|retired from) (the|this|that) (company|firm|business)\b/,
    reason: 'points to someone else; confirm before texting again',
  },

  {
    id: 'frequency-change',
    label: 'ambiguous',
    pattern:
      /\b(text|txt|message|msg|send|contact)( me| us)?( \w+){0,2} (less|fewer)\b|\b(less|fewer) (often|frequently|texts?|messages?|msgs)\b|\btoo (many|much|often|frequent|frequently)( \w+)?( (texts?|messages?|msgs|texting|sms))?\b|^(only|just|max|maximum|at most) (once|twice|one time|two times|\d+ times) (a|per|every|each) (day|week|month|year|fortnight)\b|\b(reduce|cut down|cut back)( on)?( the)? (texts|messages|frequency)\b/,
    reason: 'asks to change how often rather than to stop',
  },

  // HELP and identity questions (CTIA).
  {
    id: 'who-is-this',
    label: 'help',
    pattern:
      /\bwho('s|s| is) (this|that|texting|messaging)\b|\bwho(s)? (dis|this)\b|\bwho are (you|u)\b|\bwhat (company|business|organization|organisation|firm|store|shop|brand) (is this|are you|is texting)\b|^what( i|')s this( about| for| regarding)?$|^what is this( about| for| regarding)?$/,
    reason: 'asks who is texting',
  },

  // "If you text me again…": a threat, read as not wanting the texts; a person decides.
  {
    id: 'threat-if-texted',
    label: 'ambiguous',
    pattern:
      /\bif (you|u|ya) (ever )?(text|txt|message|msg|contact|call) me (again|one more time|ever again)\b/,
    reason: 'threatens if texted again',
  },

  // Re-subscribing in words.
  {
    id: 'resume-texts',
    label: 'opt_in',
    pattern:
      /\b(start|resume|restart|continue) (texting|messaging|sending|the texts|texts|messages|contacting)( me)?\b|\b(you can|you may|feel free to|ok to|okay to|go ahead and|it's ok to|it's fine to) (text|message|txt|contact) me again\b|\bopt (me )?back in\b|\bopt me in\b|\b(resubscribe|sign me (back )?up|subscribe me|add me back|put me back on)\b|\bunstop\b|^(please |pls |ok |okay |you can )?(text|txt|message) me again\b|\b(send|give) me (your |the )?(texts|messages|msgs|alerts|updates|deals) again\b|\b(want|like|'d like|would like|miss) (to )?((get|receive|have) )?(your|the) (texts|messages|msgs|alerts|updates|deals)( back| again)\b|\bresume (the |your )?(texts|messages|msgs|alerts)\b/,
    unless: /\b(don't|do not|dont|never|not)\b/,
    reason: 'asks to receive texts again',
  },
];

/**
 * A revocation verb the customer negates ("don't stop texting me", "I don't want to
 * unsubscribe"): only at the start of the clause, so "why don't you stop texting me" and
 * "you never stop texting me" stay revocations. The verb is taken out before the phrase
 * rules run; a bare "don't stop" stays ambiguous through the keyword rule.
 */
const NEGATED_REVOCATION =
  /^((please|pls|plz|but|and|oh|no|hey|just|so|i|we) )*((do not|don't|dont|never) (ever )?(stop|quit|cease|end|cancel|unsubscribe|unsub|optout|remove|take|drop)|(don't|do not|dont) (want|wish|need|mean)( to)? (stop|quit|cancel|end|unsubscribe|unsub|optout|be removed|be unsubscribed|be taken off))\b/;

/**
 * The clause without its leading negated revocation, or unchanged when another revocation
 * keyword follows ("don't stop texting me jk stop"): STOP recall comes before the nuance.
 */
export function withoutNegatedRevocation(text: string): string {
  const rest = text.replace(NEGATED_REVOCATION, '').trim();
  if (rest === text) return text;
  return rest.split(' ').some((t) => PER_SE_VERBS.has(t)) ? text : rest;
}

/** Help questions about how to make the texts stop: the CTIA HELP reply answers them. */
export const HOW_TO_STOP =
  /^(so )?(how|where) (do|can|would|should) (i|we) (make (these|this|them|it|the (texts|messages)) (stop|end)|stop (these|this|them|it|the (texts|messages)|getting|receiving)|optout|unsubscribe|unsub|get off)\b/;
