package bot

// Die makes b behave, for ticket, as a process that died after its
// command committed: it stops renewing the request's lease (waiting for
// the renewal to end) and forgets it, without releasing it.
func Die(b *Bot, ticket string) { b.Inbox.dropHold(ticket) }
