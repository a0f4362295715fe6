package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
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

// Bot is the platform-neutral core: it routes requests to commands, keeps
// the roster, writes the audit log and sends notices.
type Bot struct {
	Store Store
	Loc   *time.Location
	Lang  string
	Now   func() time.Time
	Log   *slog.Logger
	Cal   Calendar

	tr     Translator
	roster *Roster
	groups map[string]map[Platform]string

	reg         registry
	jobs        []Job
	cacheTTL    time.Duration
	rosterCache cache[*Roster]
	prefsCache  cache[map[string]Prefs]
	inboxGrace  time.Duration
	sleepUntil  func(ctx context.Context, t time.Time) error
	// held maps the inbox tickets whose lease this process holds to
	// their *hold (see Process).
	held sync.Map
	// reserved maps a request in the works to its answers reserved in the
	// outbox (see reserve).
	reserved    sync.Map
	tasks       map[string]Task
	middlewares []Middleware
	onDuplicate func(req *Request)

	mu       sync.RWMutex
	adapters map[Platform]Adapter
	sender   Sender

	platforms *Platforms
}

// Middleware wraps the request pipeline: func(HandlerFunc) HandlerFunc.
type Middleware func(HandlerFunc) HandlerFunc

// New returns a bot. Store and Translator are required.
func New(o Options) (*Bot, error) {
	if o.Store == nil || o.Translator == nil {
		return nil, fmt.Errorf("bot: Store and Translator are required")
	}
	b := &Bot{
		Store: unitStore{o.Store}, tr: o.Translator, roster: o.Roster, groups: o.Groups,
		Loc: o.Location, Lang: o.Lang, Now: o.Now, Log: o.Logger, Cal: o.Calendar,
		adapters: map[Platform]Adapter{}, platforms: o.Platforms,
	}
	if b.roster == nil {
		b.roster = &Roster{}
	}
	if b.platforms == nil {
		b.platforms = NewPlatforms()
	}
	if r := *b.roster; r.Named == nil {
		for _, s := range b.platforms.All() {
			if s.NamedIDs {
				r.Named = append(r.Named, s.Name)
			}
		}
		b.roster = &r
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
	b.inboxGrace = grace
	b.cacheTTL = o.CacheTTL
	if b.cacheTTL == 0 {
		b.cacheTTL = 2 * time.Second
	}
	b.jobs = append(b.jobs, Job{Name: "inbox.recover", Every: min(30*time.Second, grace/2), Run: func(ctx context.Context, _ time.Time) error {
		_, err := b.RecoverInbox(ctx, grace)
		return err
	}})
	return b, nil
}

// Register adds commands. Names and aliases must be unique.
func (b *Bot) Register(cmds ...*Command) error {
	for _, c := range cmds {
		if err := b.reg.add(c); err != nil {
			return err
		}
	}
	return nil
}

// Commands returns the registered commands in registration order.
func (b *Bot) Commands() []*Command { return slices.Clone(b.reg.cmds) }

// Use adds a middleware around every request; the first added is
// outermost.
func (b *Bot) Use(m Middleware) { b.middlewares = append(b.middlewares, m) }

// OnDuplicate calls f for every platform retry the durable inbox drops
// (Accept answering duplicate), e.g. to count it in metrics; retries
// dropped by Handle's own dedupe go through the middlewares instead. Set
// it before requests arrive.
func (b *Bot) OnDuplicate(f func(req *Request)) { b.onDuplicate = f }

// AddAdapter makes a platform reachable for notices.
func (b *Bot) AddAdapter(a Adapter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.adapters[a.Platform()] = a
}

// Adapter returns the adapter of platform p.
func (b *Bot) Adapter(p Platform) (Adapter, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	a, ok := b.adapters[p]
	return a, ok
}

// SetSender replaces direct delivery, e.g. by a durable outbox.
func (b *Bot) SetSender(s Sender) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sender = s
}

// T renders a catalog message.
func (b *Bot) T(lang, key string, args ...any) string { return b.tr.T(lang, key, args...) }

// PlatformName names platform p in lang (控制台, 飞书, Slack), or its id
// when the catalog has no name for it.
func (b *Bot) PlatformName(lang string, p Platform) string {
	if k := "platform." + string(p); b.tr.Has(lang, k) {
		return b.tr.T(lang, k)
	}
	return string(p)
}

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
	h := b.inUnit(b.dispatch)
	h = b.identify(h)
	h = b.dedupe(h)
	for i := len(b.middlewares) - 1; i >= 0; i-- {
		h = b.middlewares[i](h)
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
func (b *Bot) dedupe(next HandlerFunc) HandlerFunc {
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
func (b *Bot) identify(next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		if req.Kind == KindSchedule {
			r, err := b.Roster(ctx)
			if err != nil {
				return nil, err
			}
			req.Roster = r
			return next(ctx, req)
		}
		r, err := b.Roster(ctx)
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
		req.Lang = b.LangOf(ctx, p)
		return next(ctx, req)
	}
}

// dispatch finds the command or action and checks its rule.
func (b *Bot) dispatch(ctx context.Context, req *Request) (*Response, error) {
	switch req.Kind {
	case KindAction:
		a, ok := b.reg.actions[req.Action]
		if !ok {
			return nil, Errorf(EINVALID, "error.unknown_action")
		}
		if a.Allow != nil && !a.Allow(req.Roster, req.Person) {
			return b.answerForbidden(ctx, req, req.Action, req.Value)
		}
		return a.Run(ctx, req)
	default:
		return b.runLine(ctx, req)
	}
}

func (b *Bot) runLine(ctx context.Context, req *Request) (*Response, error) {
	text := CleanLine(req.Text)
	if utf8.RuneCountInString(text) > MaxLineLen {
		return nil, Errorf(EINVALID, "error.too_long", "max", MaxLineLen)
	}
	if text == "" {
		return Text(b.T(req.Lang, "error.empty")), nil
	}
	ln := Tokenize(text)
	if len(ln.Words) == 0 {
		return nil, Errorf(EINVALID, "error.no_verb").WithExample("help.try")
	}
	verb := b.reg.find(ln.Words[0])
	if verb == nil {
		sugg := b.reg.suggest(ln.Words[0])
		if len(sugg) == 0 {
			return Text(b.T(req.Lang, "error.unknown_verb", "verb", ln.Words[0])), nil
		}
		names := make([]string, len(sugg))
		for i, c := range sugg {
			names[i] = c.LocalName(req.Lang)
		}
		return Text(b.T(req.Lang, "error.unknown_verb_suggest", "verb", ln.Words[0], "suggestions", strings.Join(names, b.T(req.Lang, "list.sep")))), nil
	}
	p := &Parsed{Verb: verb}
	args := ln.Words[1:]
	skip := 1
	if len(verb.Subs) > 0 {
		if len(args) > 0 {
			p.Sub = verb.Sub(args[0])
		}
		switch {
		case p.Sub != nil:
			skip = 2
		case verb.Default != "" && len(args) > 0 && verb.takesDefault(args[0]):
			p.Sub = verb.Sub(verb.Default)
		case verb.Run == nil || len(args) > 0 && verb.Default != "":
			if len(args) > 0 {
				return Text(b.unknownSub(req.Lang, verb, args[0])), nil
			}
			return Text(b.HelpFor(req.Lang, verb)), nil
		}
	}
	known := verb.Options
	if p.Sub != nil {
		known = p.Sub.Options
	}
	var dups []string
	p.Args, p.Options, dups = ln.Split(skip, known)
	req.Command = p
	if verb.Allow != nil && !verb.Allow(req.Roster, req.Person) {
		// Audit what was tried (clue.show, not clue), so a record's trail
		// can name the attempt.
		what := verb.Name
		if p.Sub != nil {
			what += "." + p.Sub.Name
		}
		return b.answerForbidden(ctx, req, what, commandRecord(p))
	}
	if p.Sub != nil && p.Sub.Allow != nil && !p.Sub.Allow(req.Roster, req.Person) {
		return b.answerForbidden(ctx, req, verb.Name+"."+p.Sub.Name, commandRecord(p))
	}
	if ln.Unbalanced != 0 {
		return nil, UsageError(req, "error.unbalanced_quote", "quote", string(ln.Unbalanced))
	}
	if len(dups) > 0 {
		return nil, UsageError(req, "error.duplicate_option", "option", strings.Join(dups, b.T(req.Lang, "list.sep")))
	}
	if p.Sub != nil {
		return p.Sub.Run(ctx, req)
	}
	return verb.Run(ctx, req)
}

// localFirst orders names so that a reader of lang sees the one in
// their language first: a Chinese reader is not answered with English
// verbs ahead of the Chinese ones.
func localFirst(lang string, names []string) []string {
	if IsEnglish(lang) {
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		if !strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			out = append(out, n)
		}
	}
	return out
}

// unknownSub answers a word after verb that is none of its sub-commands:
// what was wrong, the closest sub-commands when some are close, and the
// list of them with the way to read their help.
func (b *Bot) unknownSub(lang string, verb *Command, word string) string {
	var groups [][]string
	for _, sc := range verb.Subs {
		groups = append(groups, sc.Names())
	}
	s := b.T(lang, "error.unknown_sub", "sub", word, "verb", verb.LocalName(lang))
	if sugg := closest(word, groups); len(sugg) > 0 {
		s = b.T(lang, "error.unknown_sub_suggest", "sub", word, "verb", verb.LocalName(lang), "suggestions", strings.Join(sugg, b.T(lang, "list.sep")))
	}
	var names []string
	for _, sc := range verb.Subs {
		names = append(names, b.names(lang, localFirst(lang, sc.Names())))
	}
	return s + "\n" + b.T(lang, "error.sub_list", "subs", strings.Join(names, b.T(lang, "list.sep")), "verb", verb.LocalName(lang))
}

// WantsFiles implements FileWanter: whether the command (or sub-command)
// that text names reads attachments. Text that names no command takes
// none.
func (b *Bot) WantsFiles(text string) bool {
	ln := Tokenize(CleanLine(text))
	if len(ln.Words) == 0 {
		return false
	}
	verb := b.reg.find(ln.Words[0])
	if verb == nil {
		return false
	}
	if len(verb.Subs) > 0 {
		var sub *Subcommand
		if len(ln.Words) > 1 {
			sub = verb.Sub(ln.Words[1])
		}
		if sub == nil && verb.Default != "" {
			sub = verb.Sub(verb.Default)
		}
		if sub != nil {
			return sub.Files
		}
	}
	return verb.Files
}

// commandRecord is the first record id (XS-2026-0001, any case) among
// a command's arguments, or "": a refused command is audited against the
// record it named, so it shows in that record's history.
func commandRecord(p *Parsed) string {
	for _, a := range p.Args {
		if id := strings.ToUpper(strings.TrimSpace(a)); reRecordID.MatchString(id) {
			return id
		}
	}
	return ""
}

// answerForbidden audits a refused action and answers the person, who
// has no permission for it, with error.forbidden (a Response, not an
// error: compare Refuse, which returns the EUNAUTHORIZED error).
func (b *Bot) answerForbidden(ctx context.Context, req *Request, what, record string) (*Response, error) {
	if err := b.AuditResult(ctx, req, what, record, "", ResultRefused); err != nil {
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

// Roster returns the configured roster with the administrators' stored
// changes applied. It is cached for CacheTTL: a change made through
// SavePerson shows at once in this process and within CacheTTL in the
// others, and the hot path of every request saves two store round trips.
func (b *Bot) Roster(ctx context.Context) (*Roster, error) {
	if r, ok := b.rosterCache.get(b.cacheTTL); ok && !wroteIn(ctx, CollRoster) {
		return r, nil
	}
	docs, err := b.Store.List(ctx, CollRoster)
	if err != nil {
		return nil, err
	}
	over := make([]*Person, 0, len(docs))
	for _, d := range docs {
		var p Person
		if err := json.Unmarshal(d.Data, &p); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: fmt.Errorf("roster %s: %w", d.ID, err)}
		}
		over = append(over, &p)
	}
	r := b.roster.withOverrides(over)
	if !InUnit(ctx) { // a unit's view may hold its own uncommitted changes
		b.rosterCache.set(r)
	}
	return r, nil
}

// SavePerson stores an administrator's change to a person (a new member,
// a body added or removed, Removed set).
func (b *Bot) SavePerson(ctx context.Context, p *Person) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	// Forgotten once the change is committed, so that no request caches
	// the roster from before it meanwhile.
	defer AfterCommit(ctx, func(context.Context) { b.rosterCache.clear() })
	return b.Store.Put(ctx, CollRoster, p.ID, doc)
}

// BaseRoster returns the configured roster without stored changes.
func (b *Bot) BaseRoster() *Roster { return b.roster }

// Prefs are a person's stored preferences.
type Prefs struct {
	Lang string `json:"lang,omitempty"`
}

// LangOf returns the language for p: the stored preference, the roster
// entry's, or the deployment's. Preferences are cached like the roster.
func (b *Bot) LangOf(ctx context.Context, p *Person) string {
	if p == nil {
		return b.Lang
	}
	prefs, ok := b.prefsCache.get(b.cacheTTL)
	if !ok || wroteIn(ctx, CollPrefs) {
		prefs = map[string]Prefs{}
		if docs, err := b.Store.List(ctx, CollPrefs); err == nil {
			for _, d := range docs {
				var pr Prefs
				if json.Unmarshal(d.Data, &pr) == nil {
					prefs[d.ID] = pr
				}
			}
			if !InUnit(ctx) {
				b.prefsCache.set(prefs)
			}
		}
	}
	if pr := prefs[p.ID]; pr.Lang != "" {
		return pr.Lang
	}
	if p.Lang != "" {
		return p.Lang
	}
	return b.Lang
}

// SetPrefs stores a person's preferences.
func (b *Bot) SetPrefs(ctx context.Context, personID string, pr Prefs) error {
	doc, err := json.Marshal(pr)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	defer AfterCommit(ctx, func(context.Context) { b.prefsCache.clear() })
	return b.Store.Put(ctx, CollPrefs, personID, doc)
}

// cache holds one value for a while. Its clock is the real one, not
// Bot.Now: tests move the bot's clock by days without meaning to age
// the cache.
type cache[T any] struct {
	mu sync.Mutex
	at time.Time
	v  T
	ok bool
}

func (c *cache[T]) get(ttl time.Duration) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || ttl <= 0 || time.Since(c.at) > ttl {
		var zero T
		return zero, false
	}
	return c.v, true
}

func (c *cache[T]) set(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v, c.at, c.ok = v, time.Now(), true
}

func (c *cache[T]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = false
}

// Group returns the chat ids of group key per platform.
func (b *Bot) Group(key string) map[Platform]string { return b.groups[key] }

// Groups returns every configured group key, sorted.
func (b *Bot) Groups() []string {
	var out []string
	for k := range b.groups {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

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
	a, _ := b.Adapter(p)
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
	person, ok := b.roster.Person(personID)
	if !ok {
		if r, err := b.Roster(context.Background()); err == nil {
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
