/**
 * Which clock decides what (issue #12). Two clocks exist, and each fact is decided by exactly one:
 *
 * 1. The relay's clock, a `Clock` handed to every module that needs the time (`Deps.clock`, the
 *    outbox worker's and the CRM sync worker's `clock`). It decides every compliance and expiry
 *    fact: quiet hours, first-contact silence, frequency caps, consent and reply windows, when a
 *    scheduled or held text is due (`outbox_jobs.scheduled_for`), token, code, session and
 *    challenge expiry, lockouts, webhook freshness. A timestamp that such a decision later
 *    compares against is written from this clock too (a parameter, never a column default):
 *    messages' `created_at`, conversations' `last_message_at` and `last_inbound_at`, the consent
 *    ledger's `occurred_at`, reviews', requests' and exceptions' `created_at`. What was decided is
 *    stored (`scheduled_for`), so no read recomputes it against another clock.
 * 2. The database's clock, `now()` in SQL. It only coordinates processes with each other: job
 *    leases (`lease_until`), retry back-off (`available_at`), pacing slots (`next_send_at`,
 *    `provider_pacing.next_at`), the CRM sync queue's polling and back-off, and bookkeeping that
 *    nobody decides on (`last_used_at`, `decided_at`), and `updated_at`, which orders the versions
 *    of one row (the panel keeps a message's newest); a message's `updated_at` and `created_at`
 *    therefore come from different clocks and are never compared. Values this clock writes are
 *    only ever compared with `now()` again.
 *
 * Nothing compares a value of one clock with the other: a test that pinned the relay's clock and
 * was judged by the database's passed for two days and then failed forever.
 *
 * Durations inside one process (caches, "seen a moment ago") use `performance.now()`, which no
 * clock change moves. `test/server/clock-rule.test.ts` keeps the server to this rule.
 */

/** The relay's clock: the instant compliance and expiry decisions are judged at. */
export type Clock = () => Date;

/** Real time; tests inject a pinned or shifted clock instead. */
export const systemClock: Clock = () => new Date();
