package round

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// report: round report <id> <text…> [立行立改] posts an important situation
// to the round's attached bodies only — their own groups, or their
// members directly — never to the coordination group.
func (h *handler) report(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argRound(req, 0)
	if err != nil {
		return nil, err
	}
	p := req.Command
	lang := req.Lang
	if err := checkOptions(req, []string{"immediate", "立行立改"}); err != nil {
		return nil, err
	}
	words := slices.Clone(p.Args[1:])
	immediate := p.HasOpt("immediate", "立行立改")
	for len(words) > 0 && slices.ContainsFunc(immediateWords, func(w string) bool { return strings.EqualFold(w, words[len(words)-1]) }) {
		immediate = true
		words = words[:len(words)-1]
	}
	text := strings.TrimSpace(strings.Join(words, " "))
	if text == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "round.arg.situation"))
	}
	if tooLong(text, maxSituation) {
		return nil, bot.UsageError(req, "round.error.too_long", "what", h.t(lang, "round.arg.situation"), "max", maxSituation)
	}
	rd, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	if !r.HasKind(req.Person, bot.InspectionOffice) && !req.Person.InBody(rd.Team) {
		return nil, h.b.Refuse(ctx, req, "round.report", id, "round.error.not_team", "id", id)
	}
	if len(rd.Attached) == 0 {
		return nil, bot.Coded(bot.EINVALID, "round.error.no_attached", "id", id)
	}
	now := h.b.Now()
	sid, err := bot.NewID(ctx, h.b.Store, PrefixSituation, now.In(h.b.Loc).Year())
	if err != nil {
		return nil, err
	}
	s := &Situation{ID: sid, Round: rd.ID, Team: rd.Team, Text: text, Immediate: immediate, CreatedBy: req.Person.ID, CreatedAt: now}
	for _, b := range rd.Attached {
		s.To = append(s.To, SituationAck{Body: b})
	}
	if err := createSituation(ctx, h.b.Store, s); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "round.report", sid, fmt.Sprintf("round=%s to=%s immediate=%t", rd.ID, strings.Join(rd.Attached, ","), immediate)); err != nil {
		return nil, err
	}
	failed := h.deliverSituation(ctx, r, rd, s, "report", lang)
	out := &bot.Response{Replies: []bot.Reply{{
		Text: h.t(lang, "round.report.sent", "id", sid, "bodies", h.bodyNames(r, rd.Attached, lang)),
		Card: h.reporterCard(r, rd, s, lang),
	}}}
	if len(failed) > 0 {
		out.Replies = append(out.Replies, bot.Reply{Text: h.t(lang, "round.notify_failed", "bodies", strings.Join(failed, h.t(lang, "list.sep")))})
	}
	return out, nil
}

// situationCard is the report as its receiving bodies see it, with the
// acknowledgement button while body has not acknowledged.
func (h *handler) situationCard(r *bot.Roster, rd *Round, s *Situation, lang, body string) *bot.Card {
	card := h.baseCard(r, rd, s, lang)
	if i := s.Recipient(body); i >= 0 && s.To[i].By == "" {
		card.Buttons = []bot.Button{{Label: h.t(lang, "round.button.ack"), Action: ActionAck, Value: s.ID, Style: "primary"}}
	}
	return card
}

// reporterCard is the report as the team sees it, with the button that
// makes the immediate-fix item while none was made.
func (h *handler) reporterCard(r *bot.Roster, rd *Round, s *Situation, lang string) *bot.Card {
	card := h.baseCard(r, rd, s, lang)
	if s.Immediate && s.Cosign == "" {
		card.Buttons = []bot.Button{{Label: h.t(lang, "round.button.fix"), Action: ActionFix, Value: s.ID, Style: "primary"}}
	}
	return card
}

func (h *handler) baseCard(r *bot.Roster, rd *Round, s *Situation, lang string) *bot.Card {
	title := h.t(lang, "round.situation.title", "id", s.ID)
	if s.From != "" {
		title = h.t(lang, "round.reply.title", "id", s.ID)
	}
	card := &bot.Card{
		Title: title,
		Color: bot.Orange,
		Text:  s.Text,
		Fields: []bot.Field{
			{Label: h.t(lang, "round.field.round"), Value: rd.ID + " " + rd.Name},
			{Label: h.t(lang, "round.field.organisation"), Value: r.BodyName(rd.Organisation, lang)},
			{Label: h.t(lang, "round.field.team"), Value: r.BodyName(s.Team, lang)},
			{Label: h.t(lang, "round.field.immediate"), Value: h.yesNo(lang, s.Immediate)},
		},
	}
	if s.From != "" {
		card.Fields = append(card.Fields[:3], bot.Field{Label: h.t(lang, "round.field.from"), Value: r.BodyName(s.From, lang)})
	}
	for _, a := range s.To {
		v := h.t(lang, "round.ack.waiting")
		if a.By != "" {
			v = h.t(lang, "round.ack.done", "person", r.PersonName(a.By, lang), "time", bot.FormatTime(a.At, h.b.Loc))
		}
		card.Fields = append(card.Fields, bot.Field{Label: r.BodyName(a.Body, lang), Value: v})
	}
	if s.Acknowledged() == len(s.To) {
		card.Color = bot.Green
	}
	note := []string{h.t(lang, "round.situation.note", "person", r.PersonName(s.CreatedBy, lang), "time", bot.FormatTime(s.CreatedAt, h.b.Loc))}
	if s.Cosign != "" {
		note = append(note, h.t(lang, "round.situation.fixed", "item", orDash(s.Item), "cosign", s.Cosign))
	}
	card.Note = strings.Join(note, "\n")
	return card
}

func (h *handler) yesNo(lang string, v bool) string {
	if v {
		return h.t(lang, "round.yes")
	}
	return h.t(lang, "round.no")
}

func (h *handler) argSituation(req *bot.Request) (string, error) {
	id := strings.TrimSpace(req.Value)
	if !reSituationID.MatchString(id) {
		return "", bot.Coded(bot.EINVALID, "error.unknown_action")
	}
	return strings.ToUpper(id), nil
}

func (h *handler) loadSituation(ctx context.Context, id string) (*Situation, *Round, error) {
	s, err := h.situations.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, nil, bot.Coded(bot.ENOTFOUND, "round.error.no_situation", "id", id)
	}
	if err != nil {
		return nil, nil, err
	}
	rd, err := h.load(ctx, s.Round)
	if err != nil {
		return nil, nil, err
	}
	return s, rd, nil
}

var errAlready = errors.New("round: nothing to change")

// ackButton: a member of a receiving body acknowledges the report for
// every receiving body they belong to that has not yet.
func (h *handler) ackButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argSituation(req)
	if err != nil {
		return nil, err
	}
	cur, rd, err := h.loadSituation(ctx, id)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	r := req.Roster
	if !slices.ContainsFunc(cur.To, func(a SituationAck) bool { return req.Person.InBody(a.Body) }) {
		if err := h.b.Audit.Result(ctx, req, "round.ack", id, "", bot.ResultRefused); err != nil {
			return nil, err
		}
		msg := h.t(lang, "round.error.not_recipient", "id", id)
		return &bot.Response{Toast: msg, Replies: []bot.Reply{{Text: msg}}}, nil
	}
	now := h.b.Now()
	var acked []string
	s, err := h.situations.Update(ctx, id, func(v *Situation) error {
		acked = acked[:0]
		for i := range v.To {
			if v.To[i].By == "" && req.Person.InBody(v.To[i].Body) {
				v.To[i].By, v.To[i].At, v.To[i].Platform = req.Person.ID, now, req.Platform
				acked = append(acked, v.To[i].Body)
			}
		}
		if len(acked) == 0 {
			return errAlready
		}
		return nil
	})
	if errors.Is(err, errAlready) {
		msg := h.t(lang, "round.ack.already", "id", id)
		return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.situationCard(r, rd, cur, lang, ""), Replace: true}}}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "round.ack", id, "bodies="+strings.Join(acked, ",")); err != nil {
		return nil, err
	}
	h.refresh(ctx, r, rd, s)
	if p, ok := r.Person(s.CreatedBy); ok {
		l := h.b.People.LangOf(ctx, p)
		text := h.t(l, "round.ack.told", "id", s.ID, "bodies", h.bodyNames(r, acked, l), "person", r.PersonName(req.Person.ID, l),
			"acked", s.Acknowledged(), "total", len(s.To))
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Text: text, Key: "round:" + s.ID + ":ack:" + strings.Join(acked, ",")}); err != nil {
			h.b.Log.Warn("round: telling the reporter failed", "situation", s.ID, "err", err)
		}
	}
	toast := h.t(lang, "round.ack.ok", "id", id, "bodies", h.bodyNames(r, acked, lang))
	return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: h.situationCard(r, rd, s, lang, ""), Replace: true}}}, nil
}

// refresh updates every posted card of the report.
func (h *handler) refresh(ctx context.Context, r *bot.Roster, rd *Round, s *Situation) {
	for _, a := range s.To {
		if len(a.Cards) == 0 {
			continue
		}
		if err := h.b.Out.UpdateCards(ctx, a.Cards, h.situationCard(r, rd, s, h.b.Lang, a.Body)); err != nil {
			h.b.Log.Warn("round: updating cards failed", "situation", s.ID, "err", err)
		}
	}
}

// fixButton turns a report of a problem fixed on the spot into an
// immediate-fix rectification item (when main passed an item maker) and
// its three-party co-signature, made by the domains that own them as the
// clicker, so their rules, records, cards, reminders and audit apply
// unchanged. A double click makes them once.
func (h *handler) fixButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argSituation(req)
	if err != nil {
		return nil, err
	}
	cur, rd, err := h.loadSituation(ctx, id)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	r := req.Roster
	if !r.HasKind(req.Person, bot.InspectionOffice) && !req.Person.InBody(cur.Team) {
		if err := h.b.Audit.Result(ctx, req, "round.fix", id, "", bot.ResultRefused); err != nil {
			return nil, err
		}
		msg := h.t(lang, "round.error.not_team", "id", rd.ID)
		return &bot.Response{Toast: msg, Replies: []bot.Reply{{Text: msg}}}, nil
	}
	if !cur.Immediate {
		return nil, bot.Coded(bot.EINVALID, "round.error.not_immediate", "id", id)
	}
	if h.fix.Cosigns == nil {
		return nil, bot.Coded(bot.EINVALID, "round.error.no_cosign")
	}
	now := h.b.Now()
	_, err = h.situations.Update(ctx, id, func(v *Situation) error {
		if v.Cosign != "" || !v.FixStarted.IsZero() {
			return errAlready
		}
		v.FixStarted, v.FixBy = now, req.Person.ID
		return nil
	})
	if errors.Is(err, errAlready) {
		return h.fixAlready(ctx, req, rd, id)
	}
	if err != nil {
		return nil, err
	}
	title := truncate(cur.Text, maxTitle)
	item, itemOut := h.fixItem(ctx, req, rd, title, now)
	var cosOut string
	cosign, err := h.fix.Cosigns.NewDefault(ctx, req, rd.ID, item, title)
	if err != nil {
		cosign, cosOut = "", h.b.ErrorText(ctx, req, err)
	}
	s, err := h.situations.Update(ctx, id, func(v *Situation) error {
		v.Item, v.Cosign = item, cosign
		if cosign == "" {
			v.FixStarted, v.FixBy = time.Time{}, "" // let the team try again
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cosign == "" {
		msg := h.t(lang, "round.fix.failed", "id", id, "reason", strings.TrimSpace(itemOut+"\n"+cosOut))
		return &bot.Response{Toast: msg, Replies: []bot.Reply{{Text: msg}}}, nil
	}
	if err := h.b.Audit.Record(ctx, req, "round.fix", id, fmt.Sprintf("item=%s cosign=%s", item, cosign)); err != nil {
		return nil, err
	}
	h.refresh(ctx, r, rd, s)
	msg := h.t(lang, "round.fix.done", "id", id, "item", orDash(item), "cosign", cosign)
	if item == "" {
		msg += "\n" + h.t(lang, "round.fix.no_item")
	}
	return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.reporterCard(r, rd, s, lang), Replace: true}, {Text: msg}}}, nil
}

// fixAlready answers a click on the fix button of situation id, of
// round rd, once the fix has been made or is being made: the latest
// card, with what was made.
func (h *handler) fixAlready(ctx context.Context, req *bot.Request, rd *Round, id string) (*bot.Response, error) {
	latest, _, err := h.loadSituation(ctx, id)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	msg := h.t(lang, "round.fix.already", "id", id, "item", orDash(latest.Item), "cosign", orDash(latest.Cosign))
	return &bot.Response{Toast: msg, Replies: []bot.Reply{{Card: h.reporterCard(req.Roster, rd, latest, lang), Replace: true}}}, nil
}

// fixItem makes the immediate-fix item of a fix, titled title, for the
// organisation of rd with its attached supervising bodies, when main
// passed an item maker. It returns the item's id, or "" and why none was
// made (also "" when there is no maker).
func (h *handler) fixItem(ctx context.Context, req *bot.Request, rd *Round, title string, now time.Time) (item, failed string) {
	if h.fix.Items == nil {
		return "", ""
	}
	deadline := dayStart(now, h.b.Loc).AddDate(0, 0, h.rc.ImmediateDeadlineDays)
	var sups []string
	for _, b := range rd.Attached {
		if bd, ok := req.Roster.Body(b); ok && slices.Contains(AttachedKinds, bd.Kind) {
			sups = append(sups, b)
		}
	}
	item, err := h.fix.Items.NewImmediateItem(ctx, req, rd.Organisation, title, deadline, sups, rd.ID)
	if err != nil {
		return "", h.b.ErrorText(ctx, req, err)
	}
	return item, ""
}

func truncate(s string, n int) string {
	rs := []rune(strings.Join(strings.Fields(s), " "))
	if len(rs) <= n {
		return string(rs)
	}
	return string(rs[:n-1]) + "…"
}

// deliverSituation sends situation s to each body it is addressed to and
// keeps the card references for later updates; it returns the names of
// the bodies it could not reach. kind tells the messages' keys apart
// ("report": the team's report, "reply": a body's report back).
func (h *handler) deliverSituation(ctx context.Context, r *bot.Roster, rd *Round, s *Situation, kind, lang string) []string {
	var failed []string
	for _, a := range s.To {
		refs, err := h.tellBody(ctx, r, a.Body, "round:"+s.ID+":"+kind, func(l string) bot.Notice {
			return bot.Notice{Card: h.situationCard(r, rd, s, l, a.Body)}
		})
		if err != nil {
			bot.Log(ctx, h.b.Log).Warn("round: situation not delivered", "situation", s.ID, "kind", kind, "body", a.Body, "err", err)
			failed = append(failed, r.BodyName(a.Body, lang))
		}
		if len(refs) > 0 {
			body := a.Body
			if _, err := h.situations.Update(ctx, s.ID, func(v *Situation) error {
				if i := v.Recipient(body); i >= 0 {
					v.To[i].Cards = append(v.To[i].Cards, refs...)
				}
				return nil
			}); err != nil {
				bot.Log(ctx, h.b.Log).Warn("round: keeping card references failed", "situation", s.ID, "err", err)
			}
		}
	}
	return failed
}
