package consult

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

var errAnswered = errors.New("consult: already answered")

// errNoneAfterAnswer refuses "nothing relevant" from a department that
// has already given a real answer.
var errNoneAfterAnswer = errors.New("consult: none after a real answer")

// parseValue splits a button value "ZX-2026-0001|org_dept".
func parseValue(v string) (id, dept string, err error) {
	id, dept, ok := strings.Cut(v, "|")
	if !ok || !reID.MatchString(id) || dept == "" {
		return "", "", bot.Coded(bot.EINVALID, "error.unknown_action")
	}
	return strings.ToUpper(id), dept, nil
}

// buttonRefusal audits a click by someone who does not answer for the
// department and tells them so.
func (h *handler) buttonRefusal(ctx context.Context, req *bot.Request, action, id, dept string) (*bot.Response, error) {
	if err := h.b.Audit.Result(ctx, req, action, id, "dept="+dept, bot.ResultRefused); err != nil {
		return nil, err
	}
	msg := h.t(req.Lang, "consult.error.not_dept", "id", id, "dept", req.Roster.BodyName(dept, req.Lang))
	return &bot.Response{Toast: msg, Replies: []bot.Reply{{Text: msg}}}, nil
}

// replyButton records the answer the person typed in the platform's form
// (req.Input); without one it answers privately with the exact command
// to type.
func (h *handler) replyButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, dept, err := parseValue(req.Value)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	text := strings.TrimSpace(req.Input)
	if len([]rune(text)) > maxAnswer {
		return nil, bot.UsageError(req, "consult.error.too_long", "what", h.t(lang, "consult.arg.answer"), "max", maxAnswer)
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Dept(dept) < 0 || !req.Person.InBody(dept) {
		if text != "" {
			return h.buttonRefusal(ctx, req, "consult.answer", id, dept)
		}
		return h.buttonRefusal(ctx, req, "consult.reply", id, dept)
	}
	if text != "" {
		return h.replyInput(ctx, req, id, dept, text)
	}
	line := h.t(lang, "consult.reply.command", "id", id)
	if len(c.OwnDepts(req.Person)) > 1 {
		line += " " + h.t(lang, "consult.reply.dept_option", "dept", req.Roster.BodyName(dept, lang))
	}
	how := h.t(lang, "consult.reply.how", "command", line, "none", h.t(lang, "consult.reply.none_command", "id", id))
	return &bot.Response{Toast: h.t(lang, "consult.reply.toast"), Replies: []bot.Reply{{Text: how}}}, nil
}

// replyInput records the answer typed in a form for dept, like "consult
// reply", and updates the clicked card in place.
func (h *handler) replyInput(ctx context.Context, req *bot.Request, id, dept, text string) (*bot.Response, error) {
	lang := req.Lang
	none := slices.ContainsFunc(noneWords, func(w string) bool { return strings.EqualFold(w, text) })
	if none {
		text = h.t(h.b.Lang, "consult.none_text")
	}
	c, err := h.answer(ctx, req, id, dept, text, none, false)
	if err != nil {
		return nil, err
	}
	key := "consult.answered.text"
	if none {
		key = "consult.answered.none"
	}
	msg := h.t(lang, key, "id", id, "dept", req.Roster.BodyName(dept, lang))
	if c.LateAt(c.Dept(dept), h.b.Now(), h.b.Loc) {
		msg += "\n" + h.t(lang, "consult.answered.late", "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
	}
	rd, _ := h.rounds.Get(ctx, c.Round)
	return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.deptCard(req.Roster, c, rd, dept, lang), Replace: true}}}, nil
}

// noneButton records "no relevant information" for the department.
func (h *handler) noneButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, dept, err := parseValue(req.Value)
	if err != nil {
		return nil, err
	}
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Dept(dept) < 0 || !req.Person.InBody(dept) {
		return h.buttonRefusal(ctx, req, "consult.answer", id, dept)
	}
	lang := req.Lang
	c, err := h.answer(ctx, req, id, dept, h.t(h.b.Lang, "consult.none_text"), true, true)
	if errors.Is(err, errAnswered) {
		rd, _ := h.rounds.Get(ctx, cur.Round)
		msg := h.t(lang, "consult.already", "id", id, "dept", req.Roster.BodyName(dept, lang))
		return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.deptCard(req.Roster, cur, rd, dept, lang), Replace: true}}}, nil
	}
	if err != nil {
		return nil, err
	}
	rd, _ := h.rounds.Get(ctx, c.Round)
	msg := h.t(lang, "consult.answered.none", "id", id, "dept", req.Roster.BodyName(dept, lang))
	return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.deptCard(req.Roster, c, rd, dept, lang), Replace: true}}}, nil
}

// replyCmd: consult reply <id> <answer… | 无相关情况> [dept:…]
func (h *handler) replyCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	if err := checkOptions(req, optDept); err != nil {
		return nil, err
	}
	id := strings.TrimSpace(p.Arg(0))
	if id == "" {
		return nil, bot.UsageError(req, "consult.error.need_id")
	}
	if !reID.MatchString(id) {
		return nil, bot.UsageError(req, "consult.error.bad_id", "input", id)
	}
	id = strings.ToUpper(id)
	text := strings.TrimSpace(p.Rest(1))
	if text == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "consult.arg.answer"))
	}
	if len([]rune(text)) > maxAnswer {
		return nil, bot.UsageError(req, "consult.error.too_long", "what", h.t(lang, "consult.arg.answer"), "max", maxAnswer)
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	own := c.OwnDepts(req.Person)
	if len(own) == 0 {
		return nil, h.b.Refuse(ctx, req, "consult.answer", id, "consult.error.not_consulted", "id", id)
	}
	dept := c.Depts[own[0]].Body
	if s := p.Opt(optDept...); s != "" {
		b, ok := req.Roster.FindBody(s, bot.ConsultedDept)
		if !ok || !slices.Contains(own, c.Dept(b.ID)) {
			return nil, h.b.Refuse(ctx, req, "consult.answer", id, "consult.error.not_dept", "id", id, "dept", s)
		}
		dept = b.ID
	} else if len(own) > 1 {
		var names []string
		for _, i := range own {
			names = append(names, req.Roster.BodyName(c.Depts[i].Body, lang))
		}
		return nil, bot.UsageError(req, "consult.error.which_dept", "depts", strings.Join(names, h.t(lang, "list.sep")))
	}
	none := slices.ContainsFunc(noneWords, func(w string) bool { return strings.EqualFold(w, text) })
	if none {
		text = h.t(h.b.Lang, "consult.none_text")
	}
	c, err = h.answer(ctx, req, id, dept, text, none, false)
	if err != nil {
		return nil, err
	}
	key := "consult.answered.text"
	if none {
		key = "consult.answered.none"
	}
	out := h.t(lang, key, "id", id, "dept", req.Roster.BodyName(dept, lang))
	if c.LateAt(c.Dept(dept), h.b.Now(), h.b.Loc) {
		out += "\n" + h.t(lang, "consult.answered.late", "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
	}
	return bot.Text(out), nil
}

// answer appends an answer of dept; with onlyFirst it refuses when the
// department has answered already (a click). It audits without the
// content, updates the department's cards and tells the requester.
func (h *handler) answer(ctx context.Context, req *bot.Request, id, dept, text string, none, onlyFirst bool) (*Consultation, error) {
	now := h.b.Now()
	first := false
	c, err := update(ctx, h.b.Store, id, func(v *Consultation) error {
		i := v.Dept(dept)
		if i < 0 {
			return bot.Coded(bot.ENOTFOUND, "consult.error.not_found", "id", id)
		}
		if onlyFirst && v.Depts[i].Answered() {
			return errAnswered
		}
		// "Nothing relevant" after a real answer would contradict it; a
		// correction is a supplement with text.
		if none && slices.ContainsFunc(v.Depts[i].Answers, func(a ConsultAnswer) bool { return !a.None }) {
			return errNoneAfterAnswer
		}
		first = !v.Depts[i].Answered()
		v.Depts[i].Answers = append(v.Depts[i].Answers, ConsultAnswer{Text: text, None: none, By: req.Person.ID, At: now, Platform: req.Platform})
		action := "answer"
		if !first {
			action = "supplement"
		}
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: action, Note: dept})
		return nil
	})
	if errors.Is(err, errNoneAfterAnswer) {
		return nil, bot.Coded(bot.EINVALID, "consult.error.none_after_answer", "id", id, "dept", req.Roster.BodyName(dept, req.Lang)).
			WithExample(h.t(req.Lang, "consult.reply.command", "id", id))
	}
	if err != nil {
		return nil, err
	}
	late := c.LateAt(c.Dept(dept), now, h.b.Loc)
	if err := h.b.Audit.Record(ctx, req, "consult.answer", id, fmt.Sprintf("dept=%s none=%t late=%t first=%t", dept, none, late, first)); err != nil {
		return nil, err
	}
	r := req.Roster
	h.refreshDept(ctx, r, c, dept)
	if p, ok := r.Person(c.CreatedBy); ok {
		l := h.b.People.LangOf(ctx, p)
		answered := 0
		for _, d := range c.Depts {
			if d.Answered() {
				answered++
			}
		}
		msg := h.t(l, "consult.told", "id", c.ID, "dept", r.BodyName(dept, l), "answered", answered, "total", len(c.Depts))
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Text: msg}); err != nil {
			h.b.Log.Warn("consult: telling the requester failed", "consult", id, "err", err)
		}
	}
	return c, nil
}
