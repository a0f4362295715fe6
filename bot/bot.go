package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// DedupeTTL is how long a platform event id is remembered. It outlasts
// both platforms' retry windows: Slack retries for about 5 minutes, Lark
// for about 7 hours.
const DedupeTTL = 24 * time.Hour

// Translator renders catalog messages; bot/i18n implements it.
type Translator interface {
	// T renders key in lang with name/value pairs filling {name}
	// placeholders. A missing key renders as the key itself.
	T(lang, key string, args ...any) string
	// Has reports whether key exists in lang.
	Has(lang, key string) bool
}

// Options configures a Bot.
type Options struct {
	Store      Store
	Translator Translator
	Roster     *Roster                        // the configured roster; administrators may override it
	Groups     map[string]map[Platform]string // group key → platform → chat id
	Location   *time.Location                 // deployment time zone (Asia/Shanghai)
	Lang       string                         // deployment language: "zh-CN" or "en"
	Now        func() time.Time               // the clock; time.Now when nil
	// SleepUntil waits until Now reads t or ctx is done (returning ctx's
	// error); background work (lease renewal) waits with it. By default
	// it sleeps t minus Now on the real clock.
	SleepUntil func(ctx context.Context, t time.Time) error
	Logger     *slog.Logger
	Calendar   Calendar // working days; weekends only when nil
	// InboxGrace is how long an accepted request may wait for its own
	// process before another takes it over (InboxGrace when zero).
	InboxGrace time.Duration
	// CacheTTL is how long the roster and preferences are cached; a change
	// made in another process shows after at most this long. Default 2s;
	// negative disables the cache.
	CacheTTL time.Duration
	// Platforms are the platforms the program knows (their ids, pacing,
	// hints); cmd/xunji lists them.
	Platforms *Platforms
}

// Calendar answers working-day questions (bot/workday implements it with
// the official Chinese holiday table).
type Calendar interface {
	IsWorkday(t time.Time) bool
	// AddWorkdays returns the same time of day n working days after t.
	AddWorkdays(t time.Time, n int) time.Time
	// OnOrAfter returns t if it falls on a working day, else the same time
	// on the next working day.
	OnOrAfter(t time.Time) time.Time
}

// Bot is the platform-neutral core: it handles requests, through its
// parts, and holds what every part shares (store, clock, catalog, log).
// Its parts are set by New and never replaced; the other exported fields
// are set by New from Options and are read-only afterwards.
type Bot struct {
	Store Store
	Loc   *time.Location
	Lang  string
	Now   func() time.Time
	Log   *slog.Logger
	Cal   Calendar

	// Router holds the commands, the middlewares and the help.
	Router *Router
	// People is the roster with its stored changes, the preferences and
	// the configured groups.
	People *People
	// Audit is the audit log.
	Audit *AuditLog
	// Out sends notices and messages through the adapters or a Sender.
	Out *Outbound
	// Inbox is the durable inbox; it is the handler adapters serve
	// (DurableHandler, LateDeliverer, Orderer, FileWanter).
	Inbox *Inbox
	// Jobs holds the periodic jobs and the named tasks.
	Jobs *Jobs

	tr         Translator
	sleepUntil func(ctx context.Context, t time.Time) error
	platforms  *Platforms
}

// Middleware wraps the request pipeline: func(RunFunc) RunFunc.
type Middleware func(RunFunc) RunFunc

// New returns a bot. Store and Translator are required.
func New(o Options) (*Bot, error) {
	if o.Store == nil || o.Translator == nil {
		return nil, fmt.Errorf("bot: Store and Translator are required")
	}
	b := &Bot{
		Store: unitStore{o.Store}, tr: o.Translator,
		Loc: o.Location, Lang: o.Lang, Now: o.Now, Log: o.Logger, Cal: o.Calendar,
	}
	b.Router = &Router{b: b}
	b.People = &People{b: b, roster: o.Roster, groups: o.Groups}
	b.Audit = &AuditLog{b: b}
	b.Out = &Outbound{b: b, adapters: map[Platform]Adapter{}}
	b.Inbox = &Inbox{b: b}
	b.Jobs = &Jobs{b: b}
	b.platforms = o.Platforms
	if b.People.roster == nil {
		b.People.roster = &Roster{}
	}
	if b.platforms == nil {
		b.platforms = NewPlatforms()
	}
	if r := *b.People.roster; r.Named == nil {
		for _, s := range b.platforms.All() {
			if s.NamedIDs {
				r.Named = append(r.Named, s.Name)
			}
		}
		b.People.roster = &r
	}
	if b.Loc == nil {
		b.Loc = time.UTC
	}
	if b.Lang == "" {
		b.Lang = "zh-CN"
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	b.sleepUntil = o.SleepUntil
	if b.sleepUntil == nil {
		b.sleepUntil = b.sleepReal
	}
	if b.Log == nil {
		b.Log = slog.Default()
	}
	if b.Cal == nil {
		b.Cal = weekends{b.Loc}
	}
	grace := o.InboxGrace
	if grace <= 0 {
		grace = InboxGrace
	}
	b.Inbox.inboxGrace = grace
	b.People.cacheTTL = o.CacheTTL
	if b.People.cacheTTL == 0 {
		b.People.cacheTTL = 2 * time.Second
	}
	b.Jobs.jobs = append(b.Jobs.jobs, Job{Name: "inbox.recover", Every: min(30*time.Second, grace/2), Run: func(ctx context.Context, _ time.Time) error {
		_, err := b.Inbox.Recover(ctx, grace)
		return err
	}})
	return b, nil
}

// T renders a catalog message.
func (b *Bot) T(lang, key string, args ...any) string { return b.tr.T(lang, key, args...) }

// Platforms returns the platforms the program knows.
func (b *Bot) Platforms() *Platforms { return b.platforms }

// Translator returns the catalog.
func (b *Bot) Translator() Translator { return b.tr }

// Handle runs one request through dedupe, identity, authorisation and
// the command, and never panics: a crash in a handler becomes an error
// answer and a log line.
func (b *Bot) Handle(ctx context.Context, req *Request) (resp *Response) {
	if req.Time.IsZero() {
		req.Time = b.Now()
	}
	if req.Lang == "" {
		req.Lang = b.Lang
	}
	ctx, _ = requestLog(ctx, b.Log, req)
	defer func() {
		if r := recover(); r != nil {
			Log(ctx, b.Log).Error("handler panic", "verb", verbOf(req), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp = b.errorResponse(ctx, req, &Error{Code: EINTERNAL})
		}
		if resp != nil {
			b.renderMentions(req.Platform, resp)
		}
	}()
	h := b.Inbox.inUnit(b.Router.dispatch)
	h = b.identify(h)
	h = b.dedupe(h)
	for i := len(b.Router.middlewares) - 1; i >= 0; i-- {
		h = b.Router.middlewares[i](h)
	}
	resp, err := h(ctx, req)
	if err != nil {
		return b.errorResponse(ctx, req, keep(ctx, err))
	}
	if resp == nil {
		resp = &Response{}
	}
	return resp
}

// dedupe drops platform retries of an event already claimed.
func (b *Bot) dedupe(next RunFunc) RunFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		if req.EventID == "" || req.Accepted {
			return next(ctx, req)
		}
		first, err := b.Store.Claim(ctx, eventKey(req), DedupeTTL)
		if err != nil {
			return nil, err
		}
		if !first {
			Log(ctx, b.Log).Info("duplicate event dropped")
			return &Response{Duplicate: true}, nil
		}
		return next(ctx, req)
	}
}

// identify maps the platform user to a roster person.
func (b *Bot) identify(next RunFunc) RunFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		if req.Kind == KindSchedule {
			r, err := b.People.Roster(ctx)
			if err != nil {
				return nil, err
			}
			req.Roster = r
			return next(ctx, req)
		}
		r, err := b.People.Roster(ctx)
		if err != nil {
			return nil, err
		}
		req.Roster = r
		p, ok := r.ByPlatformID(req.Platform, req.UserID)
		if !ok {
			var admins []string
			for _, a := range r.Admins() {
				admins = append(admins, a.DisplayName(req.Lang))
			}
			who := strings.Join(admins, b.T(req.Lang, "list.sep"))
			if who == "" {
				who = b.T(req.Lang, "roster.no_admin")
			}
			Log(ctx, b.Log).Info("request from unknown user")
			// The person's own platform id, which the platforms hide (Lark
			// shows no open_id anywhere), is what the administrator needs.
			return Text(b.T(req.Lang, "error.not_in_roster", "user", req.UserName, "admins", who, "id", string(req.Platform)+":"+req.UserID)), nil
		}
		req.Person = p
		req.Lang = b.People.LangOf(ctx, p)
		return next(ctx, req)
	}
}

// answerForbidden audits a refused action and answers the person, who
// has no permission for it, with error.forbidden (a Response, not an
// error: compare Refuse, which returns the EUNAUTHORIZED error).
func (b *Bot) answerForbidden(ctx context.Context, req *Request, what, record string) (*Response, error) {
	if err := b.Audit.Result(ctx, req, what, record, "", ResultRefused); err != nil {
		return nil, err
	}
	return &Response{Replies: []Reply{{Text: b.T(req.Lang, "error.forbidden")}}, Toast: b.T(req.Lang, "error.forbidden")}, nil
}

// errorResponse turns an error into an answer in the user's language.
// Its log lines carry the request's attributes (the logger in ctx) and
// its verb.
func (b *Bot) errorResponse(ctx context.Context, req *Request, err error) *Response {
	lang := req.Lang
	log := Log(ctx, b.Log).With("verb", verbOf(req))
	var text string
	var e *Error
	errors.As(err, &e)
	switch {
	case e != nil && e.Code == EINTERNAL && e.Key == "":
		log.Error("internal error", "err", err)
		text = b.T(lang, "error.internal")
	case e != nil && e.Code == EUNAVAILABLE:
		log.Warn("dependency unavailable", "err", err)
		key := "error.unavailable"
		if e.Key != "" {
			key = e.Key // e.g. a change the store could not confirm
		}
		text = b.T(lang, key)
	case e != nil && e.Key != "":
		text = b.T(lang, e.Key, e.Args...)
		if e.Example != "" {
			ex := e.Example
			if b.tr.Has(lang, ex) {
				ex = b.T(lang, ex)
			}
			text += "\n" + b.T(lang, "error.example", "example", ex)
		}
	default:
		log.Error("internal error", "err", err)
		text = b.T(lang, "error.internal")
	}
	return &Response{Replies: []Reply{{Text: text}}, Toast: text}
}

// Text is a response with one private text reply.
func Text(s string) *Response { return &Response{Replies: []Reply{{Text: s}}} }

// MentionTag returns a placeholder that each adapter renders as a mention
// of p in its own markup (Slack <@U…>, Lark <at user_id=…>, console @名).
func MentionTag(p *Person) string { return "{{@" + p.ID + "}}" }

// renderMentions replaces mention placeholders in a response.
func (b *Bot) renderMentions(p Platform, resp *Response) {
	if resp == nil {
		return
	}
	for i := range resp.Replies {
		resp.Replies[i].Text = b.mentions(p, resp.Replies[i].Text)
		resp.Replies[i].Card = b.mentionsCard(p, resp.Replies[i].Card)
	}
	resp.Toast = b.mentions(p, resp.Toast)
}

func (b *Bot) mentionsCard(p Platform, c *Card) *Card {
	if c == nil {
		return nil
	}
	cc := *c
	cc.Text = b.mentions(p, c.Text)
	cc.Note = b.mentions(p, c.Note)
	cc.Fields = slices.Clone(c.Fields)
	for i := range cc.Fields {
		cc.Fields[i].Value = b.mentions(p, cc.Fields[i].Value)
	}
	return &cc
}

func (b *Bot) mentions(p Platform, s string) string {
	a, _ := b.Out.Adapter(p)
	if strings.Contains(s, "@{") {
		// A mention typed as an argument (MentionArg) and echoed back, in
		// an error or in stored text, is shown as a mention again: the
		// platform's own on that platform, "@name" elsewhere.
		s = mentionArgRe.ReplaceAllStringFunc(s, func(m string) string {
			mp, uid, name, _ := ParseMentionArg(m)
			if mp == p && a != nil {
				return a.Mention(uid, name)
			}
			if name == "" {
				return "@" + string(mp) + ":" + uid
			}
			return "@" + name
		})
	}
	if !strings.Contains(s, "{{@") {
		return s
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "{{@")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i])
		id := s[i+3 : i+j]
		out.WriteString(b.mentionOf(a, p, id))
		s = s[i+j+2:]
	}
}

// mentionArgRe matches the words MentionArg writes.
var mentionArgRe = regexp.MustCompile(`@\{[a-z]+:[^|{}\s]+\|[^{}\s]*\}`)

func (b *Bot) mentionOf(a Adapter, p Platform, personID string) string {
	person, ok := b.People.roster.Person(personID)
	if !ok {
		if r, err := b.People.Roster(context.Background()); err == nil {
			person, ok = r.Person(personID)
		}
	}
	if !ok {
		return "@" + personID
	}
	uid := person.IDs[p]
	if a == nil || uid == "" {
		return "@" + person.Name
	}
	return a.Mention(uid, person.Name)
}

// weekends is the fallback calendar: Monday to Friday.
type weekends struct{ loc *time.Location }

func (w weekends) IsWorkday(t time.Time) bool {
	d := t.In(w.loc).Weekday()
	return d != time.Saturday && d != time.Sunday
}

func (w weekends) AddWorkdays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if w.IsWorkday(t) {
			n--
		}
	}
	return t
}

func (w weekends) OnOrAfter(t time.Time) time.Time {
	for !w.IsWorkday(t) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// ErrorText is the text an error answers req with, in its language: what
// a command shows when err ends it (a usage error's message and example,
// or the internal-error text, logged).
func (b *Bot) ErrorText(ctx context.Context, req *Request, err error) string {
	return b.errorResponse(ctx, req, err).Replies[0].Text
}
