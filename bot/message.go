package bot

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Kind says what an incoming request is.
type Kind int

// The kinds of incoming request.
const (
	// KindCommand is a command line: "/clue list", "@xunji clue list" or a
	// direct message "clue list" all arrive as a KindCommand whose Text is
	// the line without the mention.
	KindCommand Kind = iota
	// KindAction is a button click on a card.
	KindAction
	// KindSchedule is a request that comes from the clock, not a person.
	KindSchedule
)

// Request is a platform-neutral incoming event. Adapters fill the
// platform fields; the router fills Person, Lang and the parsed command.
type Request struct {
	Kind     Kind
	Platform Platform
	UserID   string // platform user id of the sender
	UserName string `json:",omitempty"` // display name the platform gave, for logs and refusals
	ChatID   string `json:",omitempty"` // platform chat / channel id ("" for a direct message with no chat)
	Direct   bool   `json:",omitempty"` // true in a one-to-one chat with the bot
	EventID  string // platform event id for dedupe; "" when the platform gives none
	Time     time.Time

	// KindCommand and KindSchedule.
	Text string `json:",omitempty"`
	// Files are attachments sent with the command (a spreadsheet to
	// import), downloaded by the adapter; at most MaxRequestFileSize each.
	Files []File `json:",omitempty"`

	// KindAction.
	Action  string     `json:",omitempty"` // action id of the clicked button, e.g. "clue.ack"
	Value   string     `json:",omitempty"` // value the button carries, e.g. "XS-2026-0001"
	Message MessageRef `json:",omitzero"`  // the message that carried the card
	// Input is the text the person typed in the form a button with a
	// Prompt opened (a Slack modal), "" when the platform showed no form
	// and the click came alone. A handler that needs free text acts on
	// Input when it is set and otherwise answers with the command to type.
	Input string `json:",omitempty"`

	// ResponseURL is where a platform accepts a late answer (Slack), kept
	// so a request recovered from the inbox can still answer there.
	ResponseURL string `json:",omitempty"`
	// PrivateDirect is set by an adapter whose platform has no message
	// only its addressee sees in a group (Lark): it shows the private
	// answers to a request made in a group in the sender's direct chat,
	// never in ChatID. The core then keeps their order there.
	PrivateDirect bool `json:",omitempty"`
	// Accepted is set once the request is in the durable inbox, where its
	// event id was already claimed.
	Accepted bool `json:",omitempty"`
	// acceptedAt is when this process accepted the request (Inbox.Accept).
	acceptedAt time.Time

	// Set by the router.
	Person  *Person `json:"-"`
	Roster  *Roster `json:"-"`
	Lang    string  `json:"-"`
	Command *Parsed `json:"-"`
}

// Response is what the router answers to one request. The adapter renders
// it in its platform's form: Slack ephemeral / in_channel replies, Lark
// replies and card-callback answers, console output.
type Response struct {
	Replies []Reply
	// Toast is a short confirmation for a button click (a Lark toast, a
	// Slack ephemeral line, a console line).
	Toast string
	// Duplicate is true when the request was a platform retry already
	// handled; adapters answer 200 and show nothing.
	Duplicate bool
}

// Reply is one answer message.
type Reply struct {
	Text string
	Card *Card
	// Public makes the reply visible to the whole chat; otherwise only the
	// sender sees it where the platform allows that.
	Public bool
	// Replace updates the card that carried the clicked button instead of
	// posting a new message (KindAction only).
	Replace bool
	// Files are attachments (a chart, a spreadsheet) sent with the reply.
	Files []File
}

// MaxRequestFileSize bounds an attachment an adapter downloads for a
// request.
const MaxRequestFileSize = 10 << 20

// File is an attachment. Adapters upload it in their platform's way
// (Slack files upload, Lark im/v1/files); the console saves it to disk.
type File struct {
	Name string `json:"name"` // e.g. "整改进度-2026-12.xlsx"
	MIME string `json:"mime"`
	Data []byte `json:"data"`
}

// Card is a platform-neutral message card.
type Card struct {
	Title   string   `json:"title"`
	Color   Color    `json:"color,omitempty"`
	Text    string   `json:"text,omitempty"`
	Fields  []Field  `json:"fields,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	Note    string   `json:"note,omitempty"` // small print at the bottom: who acted, when
}

// Color hints at the state a card shows.
type Color string

// Card colours, mapped to each platform's nearest template.
const (
	Blue   Color = "blue"
	Green  Color = "green"
	Orange Color = "orange"
	Red    Color = "red"
	Grey   Color = "grey"
)

// Field is one labelled value on a card.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Button is a card button; Action routes the click to its handler and
// Value carries the record id (and anything else the handler needs).
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
	Value  string `json:"value"`
	Style  string `json:"style,omitempty"` // "primary", "danger" or ""
	// Prompt, when set, labels a free-text field the click needs (a
	// decline's reason, an answer). Platforms that can show a form (Slack
	// modals) ask for the text first and send it with the click as
	// Request.Input; the others send the click alone (Input ""), so the
	// handler must still cope without it.
	Prompt string `json:"prompt,omitempty"`
}

// MessageRef identifies a message an adapter posted, so it can be updated.
type MessageRef struct {
	Platform Platform `json:"platform"`
	ChatID   string   `json:"chat_id"`
	ID       string   `json:"id"` // Slack ts, Lark message_id, console sequence
	// Pending names the durable outbox's entry for a message that was not
	// delivered when it was sent (its platform was down): ID is unknown
	// until the outbox delivers it. An update of a pending message waits in
	// the outbox until then and is applied to the message delivered.
	Pending string `json:"pending,omitempty"`
}

// Outgoing is one message to send. It is plain data so that it can be
// stored in a durable outbox before it is sent.
type Outgoing struct {
	Platform Platform    `json:"platform"`
	ChatID   string      `json:"chat_id,omitempty"` // post to this chat, or
	UserID   string      `json:"user_id,omitempty"` // send to this user directly
	Text     string      `json:"text,omitempty"`
	Card     *Card       `json:"card,omitempty"`
	Update   *MessageRef `json:"update,omitempty"` // edit this message instead of posting
	Files    []File      `json:"files,omitempty"`
	// Key is an idempotency key: the same key is never shown twice where
	// the platform supports it (Lark uuid).
	Key string `json:"key,omitempty"`
}

// Handler handles one request; *Bot and *Inbox implement it.
type Handler interface {
	Handle(ctx context.Context, req *Request) *Response
}

// FileWanter is implemented by handlers (as *Inbox does) that tell
// adapters whether a command line reads attachments, so that files sent
// with other commands are not downloaded (and a replied-to message not
// fetched) for nothing. Adapters without it download every file.
type FileWanter interface {
	WantsFiles(text string) bool
}

// WantsFiles reports whether h wants the files of a request with text:
// always, unless h says otherwise.
func WantsFiles(h Handler, text string) bool {
	fw, ok := h.(FileWanter)
	return !ok || fw.WantsFiles(text)
}

// LateDeliverer is implemented by handlers (as *Inbox does) that deliver an
// answer the adapter could not (the platform failed when it tried)
// through the bot's durable sending path, so that it is not lost.
type LateDeliverer interface {
	DeliverLate(ctx context.Context, req *Request, i int, r Reply) error
}

// HandOver gives reply i to req, which an adapter could not deliver (the
// platform refused it), to h's durable sending path when h has one
// (LateDeliverer), and logs what became of it.
func HandOver(ctx context.Context, h Handler, req *Request, i int, r Reply, log *slog.Logger) {
	dl, ok := h.(LateDeliverer)
	if !ok {
		return
	}
	args := []any{"platform", req.Platform, "event", req.EventID, "chat", req.ChatID, "user", req.UserID}
	if err := dl.DeliverLate(ctx, req, i, r); err != nil {
		log.Error("answer lost", append(args, "err", err)...)
		return
	}
	log.Info("answer handed to the outbox", args...)
}

// DurableHandler is a Handler with a durable inbox (Bot.Inbox
// implements it).
// An adapter that must acknowledge before the work is done calls Accept
// before acknowledging, Process after, and Done once the answer is
// delivered: a process killed anywhere in between leaves the request in
// the inbox, and it is handled after restart or by another replica, its
// answer delivered as a message.
type DurableHandler interface {
	Handler
	// Accept stores req. dup is true for a platform retry of an event
	// already accepted; the adapter acknowledges it and does nothing more.
	Accept(ctx context.Context, req *Request) (ticket string, dup bool, err error)
	// Process handles an accepted request; the request stays in the inbox
	// until Done. It answers Duplicate when another process holds it.
	Process(ctx context.Context, ticket string, req *Request) *Response
	// Done removes the request from the inbox once its answer went out
	// (or leaves it for recovery when it was kept, not carried out). It
	// must follow every Process, a Duplicate answer included: Process
	// renews the request's lease until Done (or until ctx ends). Serve
	// does both.
	Done(ctx context.Context, ticket string, req *Request)
}

// Adapter connects the bot to one chat platform.
type Adapter interface {
	// Platform names the platform.
	Platform() Platform
	// Run receives events and passes them to h until ctx is done.
	Run(ctx context.Context, h Handler) error
	// Send posts or updates a message.
	Send(ctx context.Context, m Outgoing) (MessageRef, error)
	// Mention renders a mention of the platform user userID, whose name
	// is name, in the platform's markup.
	Mention(userID, name string) string
}

// HealthChecker is implemented by adapters that hold a connection of
// their own (Slack Socket Mode); /healthz reports its Health.
type HealthChecker interface {
	// Health returns nil while the adapter can receive events.
	Health() error
}

// HTTPAdapter is an adapter that receives events over HTTP on the shared
// listener; Mount registers its routes.
type HTTPAdapter interface {
	Adapter
	Mount(mux *http.ServeMux, h Handler)
}

// Sender delivers outgoing messages. The default sends through the
// adapter directly; a durable outbox can stand in its place.
type Sender interface {
	Send(ctx context.Context, m Outgoing) (MessageRef, error)
}

// Permanent is implemented by adapter errors that retrying cannot fix
// (a channel that does not exist, a bot removed from a chat).
type Permanent interface {
	Permanent() bool
}

// ChatOrder is implemented by a Sender that keeps the messages to each
// chat in order (the durable outbox). An adapter answering a request
// directly takes the chat's turn first (Turn): with a backlog, its
// messages must queue behind it.
type ChatOrder interface {
	// Turn waits until this process sends nothing else to chat (and to
	// user directly, when user is set) and reports whether older messages
	// to them still wait (older than the entry before, when it is set:
	// the caller's own reserved answers). Until release, the caller sends
	// the chats' messages: directly when there is no backlog, else through
	// the Sender (HandOver) with the returned context, which holds the
	// turn.
	Turn(ctx context.Context, p Platform, chat, user, before string) (turn context.Context, backlog bool, release func())
}

// Orderer is implemented by handlers (as *Inbox does) whose durable
// sending path keeps each chat's messages in order (ChatOrder).
type Orderer interface {
	// TakeTurn is ChatOrder.Turn for the chat req came from.
	TakeTurn(ctx context.Context, req *Request) (turn context.Context, backlog bool, release func())
}

// Turn takes the turn of req's chat through h (Orderer). Without it
// there is no backlog and nothing to release.
func Turn(ctx context.Context, h Handler, req *Request) (context.Context, bool, func()) {
	if o, ok := h.(Orderer); ok {
		return o.TakeTurn(ctx, req)
	}
	return ctx, false, func() {}
}
