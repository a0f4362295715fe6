// Package bot is xunji's platform-neutral core: the vocabulary every
// other package speaks and the path every request takes. It imports the
// standard library only; the adapters, the stores, the command packages
// and cmd/ import it, never the other way round.
//
// What lives here:
//
//   - the vocabulary: Request, Response, Reply, Card and Button, Outgoing
//     and MessageRef (message.go); Person, Roster and the groups
//     (roster.go); the Adapter and Store interfaces with their optional
//     abilities (InboxStore, TxStore, DocExpirer, ClaimRenewer, Scanner,
//     Reserver, HealthChecker ...); the clock injected through
//     Options.Now and Options.SleepUntil, so tests move time themselves;
//   - the router: commands declared as data (Command, command.go), their
//     lines tokenized into Parsed arguments (parse.go) and dispatched by
//     Bot.Handle, with help written from the declarations (help.go), and
//     middleware around every request (Bot.Use);
//   - the records' plumbing shared by every area: Collection, NewID,
//     History, RecordID (records.go), the audit trail (audit.go),
//     notices to groups and people (notify.go), periodic jobs and named
//     tasks for the schedules (jobs.go);
//   - the errors (errors.go): coded errors keyed to the message catalog,
//     translated into the user's language at the edge, and the sentinel
//     values of the request path.
//
// The request path, for a platform event (a message, a slash command, a
// card click):
//
//	adapter → Serve → inbox → unit of work → outbox
//
// Step by step:
//
//  1. The adapter (adapters/*) verifies the platform's request, turns it
//     into a Request and calls Serve with a Delivery saying how to
//     acknowledge it and how to show a reply on its platform.
//  2. Serve (serve.go) is the inbox protocol, once for every adapter:
//     Accept stores the request in the inbox and claims its event id
//     (platform retries are dropped) before anything is acknowledged; the
//     work then runs in the background and the request is acknowledged,
//     at once or with the first part of its answer.
//  3. The inbox (inbox.go): Process takes the request's lease and runs
//     Bot.Handle — the middleware, dedupe, identity (the roster person
//     behind the platform user), authorisation and the command. A request
//     whose process died is found by RecoverInbox and handled by another.
//  4. The unit of work (unit.go, RunUnit): the command's reads and
//     writes, its audit entries, its outgoing messages and the inbox
//     entry's completion are committed together, or not at all, and run
//     again when a concurrent change conflicts.
//  5. The outbox (bot/outbox): the replies Serve could not show at once,
//     and every notice, are stored there and sent in each chat's order,
//     with retries, until the platform takes them. Done, last, removes
//     the request from the inbox.
//
// Scheduled work enters the same way, as requests from the clock rather
// than a person (KindSchedule; bot/schedule decides when).
//
// Beside the core: bot/i18n (the message catalog), bot/config (the
// configuration), bot/workday (the working-day calendar), bot/schedule
// (the schedules on gocron), bot/outbox (the durable outbox), bot/metrics
// (the Prometheus metrics) and bot/bottest (test helpers: a bot on an
// in-memory store with a fake clock and a recording adapter).
package bot
