// Package admin holds the commands every deployment has: help, whoami,
// roster (with the administrators' changes) and the language preference.
package admin

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// Module is the administration domain: help, whoami, roster and lang. It
// has no settings. work, when not nil, returns each domain's count of
// the open work that removing a body's last member warns of (see
// OpenWork); commands/all wires the domains' queries in.
func Module(work func(b *bot.Bot) []OpenWork) config.Module {
	return config.Module{Name: "admin", Setup: func(b *bot.Bot, _ *config.Config) error { return setup(b, work) }}
}

func setup(b *bot.Bot, work func(b *bot.Bot) []OpenWork) error {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	h := &handler{b: b}
	if work != nil {
		h.work = work(b)
	}
	return b.Router.Register(
		&bot.Command{Name: "help", Aliases: []string{"帮助", "xunji", "巡纪", "?", "？"}, Run: h.help},
		&bot.Command{Name: "whoami", Aliases: []string{"我是谁", "我的身份"}, Run: h.whoami},
		&bot.Command{
			Name: "roster", Aliases: []string{"名册", "人员"},
			Subs: []*bot.Subcommand{
				{Name: "list", Aliases: []string{"列表", "全部"}, Run: h.list},
				{Name: "show", Aliases: []string{"查看"}, Run: h.show},
				{Name: "add", Aliases: []string{"添加", "加入"}, Allow: bot.AdminOnly, Run: h.add},
				{Name: "remove", Aliases: []string{"移除", "删除"}, Allow: bot.AdminOnly, Run: h.remove},
			},
			Run: h.list,
		},
		&bot.Command{Name: "lang", Aliases: []string{"语言", "language"}, Run: h.lang},
	)
}

type handler struct {
	b    *bot.Bot
	work []OpenWork
}

func (h *handler) help(_ context.Context, req *bot.Request) (*bot.Response, error) {
	words := req.Command.Args
	if len(words) == 0 {
		return bot.Text(h.b.Router.HelpAll(req.Lang)), nil
	}
	c := h.b.Router.Find(words[0])
	if c == nil {
		return nil, bot.UsageError(req, "error.unknown_verb", "verb", words[0])
	}
	if len(words) > 1 && len(c.Subs) > 0 {
		sc := c.Sub(words[1])
		if sc == nil {
			return bot.Text(h.b.Router.UnknownSub(req.Lang, c, words[1])), nil
		}
		return bot.Text(h.b.Router.HelpForSub(req.Lang, c, sc)), nil
	}
	return bot.Text(h.b.Router.HelpFor(req.Lang, c)), nil
}

func (h *handler) whoami(_ context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Person
	var lines []string
	for _, id := range p.Bodies {
		if body, ok := req.Roster.Body(id); ok {
			lines = append(lines, h.b.T(req.Lang, "admin.whoami.body", "body", body.DisplayName(req.Lang), "kind", h.b.T(req.Lang, "party."+string(body.Kind))))
		}
	}
	role := ""
	if p.Admin {
		role = h.b.T(req.Lang, "admin.whoami.admin")
	}
	text := h.b.T(req.Lang, "admin.whoami", "name", p.DisplayName(req.Lang), "platform", h.b.People.PlatformName(req.Lang, req.Platform), "user", req.UserID, "role", role, "bodies", strings.Join(lines, "\n"), "lang", req.Lang)
	return bot.Text(text), nil
}

// list shows every party kind with its bodies and members.
func (h *handler) list(_ context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Command.Args) > 0 && req.Command.Sub == nil {
		return h.show(context.Background(), req)
	}
	r := req.Roster
	var s strings.Builder
	s.WriteString(h.b.T(req.Lang, "admin.roster.header", "bodies", len(r.Bodies), "people", len(r.People)))
	for _, k := range bot.PartyKinds {
		bodies := r.BodiesOf(k)
		if len(bodies) == 0 {
			continue
		}
		s.WriteString("\n\n" + h.b.T(req.Lang, "admin.roster.kind", "kind", h.b.T(req.Lang, "party."+string(k))))
		for _, body := range bodies {
			s.WriteString("\n" + h.b.T(req.Lang, "admin.roster.line", "body", body.DisplayName(req.Lang), "id", body.ID, "members", h.names(req, r.Members(body.ID))))
		}
	}
	return bot.Text(s.String()), nil
}

func (h *handler) names(req *bot.Request, people []*bot.Person) string {
	if len(people) == 0 {
		return h.b.T(req.Lang, "admin.roster.nobody")
	}
	var n []string
	for _, p := range people {
		name := p.DisplayName(req.Lang)
		if p.Admin {
			name += h.b.T(req.Lang, "admin.roster.admin_mark")
		}
		n = append(n, name)
	}
	return strings.Join(n, h.b.T(req.Lang, "list.sep"))
}

// show lists one body's members, or one person's bodies.
func (h *handler) show(_ context.Context, req *bot.Request) (*bot.Response, error) {
	q := req.Command.Rest(0)
	if q == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.b.T(req.Lang, "admin.arg.body_or_person"))
	}
	r := req.Roster
	if body, ok := r.FindBody(q); ok {
		return bot.Text(h.b.T(req.Lang, "admin.roster.body", "body", body.DisplayName(req.Lang), "kind", h.b.T(req.Lang, "party."+string(body.Kind)), "members", h.names(req, r.Members(body.ID)))), nil
	}
	if p, ok := r.FindPerson(q); ok {
		var bodies []string
		for _, id := range p.Bodies {
			if body, ok := r.Body(id); ok {
				bodies = append(bodies, body.DisplayName(req.Lang))
			}
		}
		return bot.Text(h.b.T(req.Lang, "admin.roster.person", "name", p.DisplayName(req.Lang), "bodies", strings.Join(bodies, h.b.T(req.Lang, "list.sep")))), nil
	}
	return nil, bot.UsageError(req, "admin.roster.no_match", "name", q)
}

// add puts a person into a body: roster add <name> <body> [slack:U…] [lark:ou_…] [console:名]
// (an option per platform the program has). A new person is created; an
// existing one gains the body and any ids given.
func (h *handler) add(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	name, bodyQ := req.Command.Arg(0), req.Command.Arg(1)
	if name == "" || bodyQ == "" || len(req.Command.Args) > 2 {
		return nil, bot.UsageError(req, "admin.roster.add_usage")
	}
	if err := checkOptions(req, h.addOptions()); err != nil {
		return nil, err
	}
	admin, setAdmin, err := yesNo(req, adminOpts)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	body, ok := r.FindBody(bodyQ)
	if !ok {
		return nil, bot.UsageError(req, "error.no_body", "name", bodyQ)
	}
	np, exists, err := h.personToAdd(req, name, body, setAdmin, admin)
	if err != nil {
		return nil, err
	}
	// Only the administrator flag may change for a person already in the
	// body: then no membership is added nor audited.
	onlyAdmin := exists && np.InBody(body.ID) && !h.hasIDOptions(req)
	if !np.InBody(body.ID) {
		np.Bodies = append(np.Bodies, body.ID)
	}
	if err := h.setAccounts(ctx, req, &np); err != nil {
		return nil, err
	}
	np.Removed = false
	wasAdmin := np.Admin
	if setAdmin {
		if !admin && wasAdmin && len(adminsExcept(r, np.ID)) == 0 {
			return nil, bot.UsageError(req, "admin.roster.last_admin_revoke", "name", np.Name)
		}
		np.Admin = admin
	}
	if err := h.b.People.SavePerson(ctx, &np); err != nil {
		return nil, err
	}
	return h.addAudited(ctx, req, &np, body, onlyAdmin, wasAdmin)
}

// personToAdd returns the person "roster add" names, a copy to change:
// one in the roster (exists), or a new one. 名册 添加 @某人 单位: a
// mention of someone not yet in the roster brings their platform id and
// the name the platform shows.
// A person already in the body is refused unless the command gives ids or
// changes the administrator flag (setAdmin, to admin).
func (h *handler) personToAdd(req *bot.Request, name string, body bot.Body, setAdmin, admin bool) (np bot.Person, exists bool, err error) {
	r := req.Roster
	var mPlat bot.Platform
	var mID string
	if plat, uid, mname, isMention := bot.ParseMentionArg(name); isMention {
		if _, known := r.FindPerson(name); !known {
			if mname == "" {
				return np, false, bot.UsageError(req, "admin.roster.mention_no_name")
			}
			mPlat, mID, name = plat, uid, mname
		}
	}
	p, exists := r.FindPerson(name)
	if exists {
		np = *p
		np.Bodies = slices.Clone(p.Bodies)
		np.IDs = maps.Clone(p.IDs)
		if np.IDs == nil {
			np.IDs = map[bot.Platform]string{}
		}
		if np.InBody(body.ID) && !h.hasIDOptions(req) && (!setAdmin || np.Admin == admin) {
			return np, true, bot.UsageError(req, "admin.roster.already", "name", np.Name, "body", body.DisplayName(req.Lang))
		}
	} else {
		if !validName(name) {
			return np, false, bot.UsageError(req, "admin.roster.bad_name", "name", printable(name))
		}
		np = bot.Person{ID: newPersonID(r, name), Name: name, IDs: map[bot.Platform]string{}}
		for _, s := range h.b.Platforms().All() {
			if s.NamedIDs {
				np.IDs[s.Name] = name
			}
		}
	}
	if mID != "" {
		if cur := np.IDs[mPlat]; cur != "" && cur != mID {
			return np, exists, bot.UsageError(req, "admin.roster.other_id", "name", np.Name, "id", string(mPlat)+":"+cur)
		}
		if other, taken := r.ByPlatformID(mPlat, mID); taken && other.ID != np.ID {
			return np, exists, bot.UsageError(req, "admin.roster.id_taken", "id", mID, "name", other.Name)
		}
		np.IDs[mPlat] = mID
	}
	return np, exists, nil
}

// setAccounts sets the platform ids "roster add" gives: 手机:… / 邮箱:…,
// the platform id the organisation registered with that number or
// address, from a platform that can look it up (Lark's contact API), for
// someone whose id the client never shows; then one option per platform
// (slack:U…), checked against the platform's id form.
func (h *handler) setAccounts(ctx context.Context, req *bot.Request, np *bot.Person) error {
	r := req.Roster
	for _, c := range []struct {
		by   bot.Contact
		keys []string
	}{{bot.ByMobile, []string{"mobile", "手机"}}, {bot.ByEmail, []string{"email", "邮箱"}}} {
		v := strings.TrimSpace(req.Command.Opt(c.keys...))
		if v == "" {
			continue
		}
		plat, uid, err := h.b.People.FindUser(ctx, c.by, v)
		if bot.IsNotFound(err) {
			return bot.UsageError(req, "admin.roster.no_contact", "value", v)
		}
		if err != nil {
			return err
		}
		if other, taken := r.ByPlatformID(plat, uid); taken && other.ID != np.ID {
			return bot.UsageError(req, "admin.roster.id_taken", "id", string(plat)+":"+uid, "name", other.Name)
		}
		np.IDs[plat] = uid
	}
	for _, spec := range h.b.Platforms().All() {
		plat := spec.Name
		v := req.Command.Opt(string(plat))
		if v == "" {
			continue
		}
		if other, taken := r.ByPlatformID(plat, v); taken && other.ID != np.ID {
			return bot.UsageError(req, "admin.roster.id_taken", "id", v, "name", other.Name)
		}
		if !validAccount(spec, v) {
			return bot.UsageError(req, "admin.roster.bad_account", "platform", h.b.People.PlatformName(req.Lang, plat), "id", printable(v), "form", h.b.T(req.Lang, "admin.roster.account_form."+string(plat)))
		}
		np.IDs[plat] = v
	}
	return nil
}

// addAudited audits what "roster add" changed and says it.
func (h *handler) addAudited(ctx context.Context, req *bot.Request, np *bot.Person, body bot.Body, onlyAdmin, wasAdmin bool) (*bot.Response, error) {
	var lines []string
	if !onlyAdmin {
		if err := h.b.Audit.Record(ctx, req, "roster.add", np.ID, body.ID); err != nil {
			return nil, err
		}
		lines = append(lines, h.b.T(req.Lang, "admin.roster.added", "name", np.Name, "body", body.DisplayName(req.Lang)))
	}
	if np.Admin != wasAdmin {
		if err := h.b.Audit.Record(ctx, req, "roster.admin", np.ID, fmt.Sprintf("admin=%t", np.Admin)); err != nil {
			return nil, err
		}
		key := "admin.roster.appointed"
		if !np.Admin {
			key = "admin.roster.revoked"
		}
		lines = append(lines, h.b.T(req.Lang, key, "name", np.Name))
	}
	return bot.Text(strings.Join(lines, "\n")), nil
}

// Option names of "roster add" and "roster remove".
var (
	adminOpts = []string{"admin", "管理员"}
	forceOpts = []string{"force", "强制"}
	// contactOpts look a person's id up (setAccounts); one option per
	// platform comes before them (addOptions).
	contactOpts = []string{"mobile", "手机", "email", "邮箱"}
)

// addOptions names the options of "roster add": one per platform, the
// contact look-ups, admin.
func (h *handler) addOptions() []string {
	var out []string
	for _, p := range h.b.Platforms().Names() {
		out = append(out, string(p))
	}
	return append(append(out, contactOpts...), adminOpts...)
}

// checkOptions refuses an option that is not one of known, so that a
// mistyped one is not silently ignored.
func checkOptions(req *bot.Request, known []string) error {
	var bad []string
	for k := range req.Command.Options {
		if !slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return bot.UsageError(req, "admin.roster.bad_option", "option", strings.Join(bad, ", "), "options", strings.Join(known, ", "))
}

// yesNo reads a yes/no option: its value and whether it was given.
func yesNo(req *bot.Request, keys []string) (value, given bool, err error) {
	if !req.Command.HasOpt(keys...) {
		return false, false, nil
	}
	v := strings.ToLower(strings.TrimSpace(req.Command.Opt(keys...)))
	switch v {
	case "是", "yes", "y", "true", "1":
		return true, true, nil
	case "否", "no", "n", "false", "0":
		return false, true, nil
	}
	return false, false, bot.UsageError(req, "admin.roster.bad_yes_no", "option", strings.Join(keys, "/"), "value", printable(v))
}

// hasIDOptions reports whether "roster add" gives a platform id.
func (h *handler) hasIDOptions(req *bot.Request) bool {
	for _, p := range h.b.Platforms().Names() {
		if req.Command.HasOpt(string(p)) {
			return true
		}
	}
	return false
}

func newPersonID(r *bot.Roster, name string) string {
	base := "p_" + name
	id := base
	for i := 2; ; i++ {
		if _, taken := r.Person(id); !taken {
			return id
		}
		id = fmt.Sprintf("%s_%d", base, i)
	}
}

// remove takes a person out of one body, or out of the roster.
func (h *handler) remove(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	name, bodyQ := req.Command.Arg(0), req.Command.Arg(1)
	if name == "" || len(req.Command.Args) > 2 {
		return nil, bot.UsageError(req, "admin.roster.remove_usage")
	}
	if err := checkOptions(req, forceOpts); err != nil {
		return nil, err
	}
	force, _, err := yesNo(req, forceOpts)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	p, ok := r.FindPerson(name)
	if !ok {
		return nil, bot.UsageError(req, "error.no_person", "name", name)
	}
	np := *p
	np.Bodies = slices.Clone(p.Bodies)
	detail := "all"
	msg := ""
	if bodyQ != "" {
		body, ok := r.FindBody(bodyQ)
		if !ok {
			return nil, bot.UsageError(req, "error.no_body", "name", bodyQ)
		}
		if !np.InBody(body.ID) {
			return nil, bot.UsageError(req, "admin.roster.not_member", "name", np.Name, "body", body.DisplayName(req.Lang))
		}
		np.Bodies = slices.DeleteFunc(np.Bodies, func(id string) bool { return id == body.ID })
		detail = body.ID
		msg = h.b.T(req.Lang, "admin.roster.removed_from", "name", np.Name, "body", body.DisplayName(req.Lang))
	}
	if len(np.Bodies) == 0 || bodyQ == "" {
		if np.Admin && len(adminsExcept(r, np.ID)) == 0 {
			return nil, bot.UsageError(req, "admin.roster.last_admin", "name", np.Name)
		}
		np.Removed = true
		msg = h.b.T(req.Lang, "admin.roster.removed", "name", np.Name)
	}
	left, err := h.workLeft(ctx, req, p, &np)
	if err != nil {
		return nil, err
	}
	if len(left) > 0 && !force {
		return h.unconfirmedRemoval(ctx, req, &np, bodyQ, left)
	}
	if len(left) > 0 {
		detail += " force"
	}
	if err := h.b.People.SavePerson(ctx, &np); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "roster.remove", np.ID, detail); err != nil {
		return nil, err
	}
	return bot.Text(msg), nil
}

// workLeft says, per body that removing p (becoming np) leaves without
// members, the open work waiting on it. A body left without members
// while work waits on it would leave that work to nobody: remove warns
// and asks for force:yes.
func (h *handler) workLeft(ctx context.Context, req *bot.Request, p, np *bot.Person) ([]string, error) {
	r := req.Roster
	var left []string
	for _, id := range p.Bodies {
		if np.InBody(id) && !np.Removed {
			continue
		}
		if others := slices.DeleteFunc(r.Members(id), func(m *bot.Person) bool { return m.ID == np.ID }); len(others) > 0 {
			continue
		}
		work, err := h.openWork(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(work) > 0 {
			left = append(left, h.b.T(req.Lang, "admin.roster.open_work_body", "body", r.BodyName(id, req.Lang), "work", h.openWorkText(req.Lang, work)))
		}
	}
	return left, nil
}

// unconfirmedRemoval refuses a removal that would leave open work to
// nobody without force:yes, naming the kinds of work. Only
// administrators, who are entitled to all of it, run "roster remove",
// and the answer is private to them.
func (h *handler) unconfirmedRemoval(ctx context.Context, req *bot.Request, np *bot.Person, bodyQ string, left []string) (*bot.Response, error) {
	if err := h.b.Audit.Result(ctx, req, "roster.remove", np.ID, "open work left to nobody; not confirmed", bot.ResultRefused); err != nil {
		return nil, err
	}
	example := strings.TrimSpace(h.b.T(req.Lang, "admin.roster.force_example", "name", np.Name, "body", bodyQ))
	example = strings.Join(strings.Fields(example), " ") // no body: no double space
	text := h.b.T(req.Lang, "admin.roster.open_work", "name", np.Name, "bodies", strings.Join(left, "\n"), "example", example)
	if req.Direct {
		return bot.Text(text), nil
	}
	// Not every platform can answer one person privately in a group
	// (Lark cannot): the kinds of open work go by direct message.
	refs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: req.Person.ID, Text: text})
	if err != nil || len(refs) == 0 {
		h.b.Log.Warn("roster: direct message failed", "person", req.Person.ID, "err", err)
		return bot.Text(h.b.T(req.Lang, "admin.roster.dm_failed")), nil
	}
	return bot.Text(h.b.T(req.Lang, "admin.roster.sent_privately")), nil
}

func adminsExcept(r *bot.Roster, id string) []*bot.Person {
	return slices.DeleteFunc(r.Admins(), func(p *bot.Person) bool { return p.ID == id })
}

// lang sets the sender's language: lang zh | lang en.
func (h *handler) lang(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	arg := strings.ToLower(req.Command.Arg(0))
	var lang string
	switch arg {
	case "zh", "zh-cn", "cn", "中文", "chinese":
		lang = "zh-CN"
	case "en", "en-us", "english", "英文", "英语":
		lang = "en"
	case "":
		return bot.Text(h.b.T(req.Lang, "admin.lang.current", "lang", req.Lang)), nil
	default:
		return nil, bot.UsageError(req, "admin.lang.bad", "lang", arg)
	}
	if err := h.b.People.SetPrefs(ctx, req.Person.ID, bot.Prefs{Lang: lang}); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "prefs.lang", req.Person.ID, lang); err != nil {
		return nil, err
	}
	return bot.Text(h.b.T(lang, "admin.lang.set")), nil
}
