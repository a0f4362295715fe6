package round

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// reply: round reply <id> <text…> (轮次 互通): an attached body (one the
// round's situation reports go to) reports back to the inspection team —
// 巡中互通 in the other direction. It goes to the round's team and the
// inspection office only (their own groups, or their members directly),
// never to the coordination group; the team acknowledges it with the
// same button, and 轮次 查看 shows it to those entitled to read it.
func (h *handler) reply(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argRound(req, 0)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	text := afterID(req, id)
	if text == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "round.arg.reply"))
	}
	if tooLong(text, maxSituation) {
		return nil, bot.UsageError(req, "round.error.too_long", "what", h.t(lang, "round.arg.reply"), "max", maxSituation)
	}
	rd, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	i := slices.IndexFunc(rd.Attached, req.Person.InBody)
	if i < 0 {
		return nil, h.b.Refuse(ctx, req, "round.reply", id, "round.error.not_attached", "id", id)
	}
	from := rd.Attached[i]
	to := []string{rd.Team}
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		to = append(to, b.ID)
	}
	now := h.b.Now()
	sid, err := bot.NewID(ctx, h.b.Store, PrefixSituation, now.In(h.b.Loc).Year())
	if err != nil {
		return nil, err
	}
	s := &Situation{ID: sid, Round: rd.ID, Team: rd.Team, From: from, Text: text, CreatedBy: req.Person.ID, CreatedAt: now}
	for _, b := range to {
		s.To = append(s.To, SituationAck{Body: b})
	}
	if err := createSituation(ctx, h.b.Store, s); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "round.reply", sid, fmt.Sprintf("round=%s from=%s to=%s", rd.ID, from, strings.Join(to, ","))); err != nil {
		return nil, err
	}
	failed := h.deliverSituation(ctx, r, rd, s, "reply", lang)
	out := &bot.Response{Replies: []bot.Reply{{
		Text: h.t(lang, "round.reply.sent", "id", sid, "bodies", h.bodyNames(r, to, lang)),
		Card: h.baseCard(r, rd, s, lang),
	}}}
	if len(failed) > 0 {
		out.Replies = append(out.Replies, bot.Reply{Text: h.t(lang, "round.notify_failed", "bodies", strings.Join(failed, h.t(lang, "list.sep")))})
	}
	return out, nil
}

// afterID returns the raw text of the command line after the round id,
// so that free text keeps its colons ("经核查：属实") and quotes; a text
// quoted as a whole loses its outer quotes.
func afterID(req *bot.Request, id string) string {
	line := bot.CleanLine(req.Text)
	i := strings.Index(strings.ToUpper(line), strings.ToUpper(id))
	if i < 0 {
		return strings.TrimSpace(strings.Join(req.Command.Args[1:], " "))
	}
	rest := strings.TrimSpace(line[i+len(id):])
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"「", "」"}} {
		if inner, ok := strings.CutPrefix(rest, q[0]); ok {
			if inner, ok := strings.CutSuffix(inner, q[1]); ok && !strings.Contains(inner, q[0]) {
				return strings.TrimSpace(inner)
			}
		}
	}
	return rest
}
