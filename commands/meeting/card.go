package meeting

import (
	"fmt"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/i18n"
)

// card renders a meeting as its notice card in lang (group cards use the
// deployment language): date, time, place, agenda, the answers counted,
// the invited bodies, the attendance once recorded, and the 参加 / 请假
// buttons while it is upcoming.
func (m *handler) card(lang string, r *bot.Roster, mt *Meeting, now time.Time) *bot.Card {
	t := func(key string, args ...any) string { return m.b.T(lang, key, args...) }
	title := m.title(lang, mt)
	card := &bot.Card{Title: t("meeting.card.title", "title", title, "id", mt.ID), Color: bot.Blue}
	var text []string
	if mt.State == MeetingCancelled {
		card.Title = t("meeting.card.title_cancelled", "title", title, "id", mt.ID)
		card.Color = bot.Grey
		reason := mt.Reason
		if reason == "" {
			reason = t("meeting.none")
		}
		text = append(text, t("meeting.card.cancelled", "reason", reason))
	} else {
		text = append(text, m.intro(lang, mt))
	}
	switch {
	case !mt.MovedFrom.IsZero():
		text = append(text, t("meeting.card.moved", "from", m.when(lang, mt.MovedFrom)))
	case !mt.Planned.IsZero() && !mt.Planned.Equal(mt.Time) && mt.Holiday != "":
		text = append(text, t("meeting.card.moved_holiday", "planned", bot.FormatDate(mt.Planned, m.b.Loc), "holiday", m.holiday(lang, mt.Holiday), "date", bot.FormatDate(mt.Time, m.b.Loc)))
	case !mt.Planned.IsZero() && !mt.Planned.Equal(mt.Time):
		text = append(text, t("meeting.card.moved_dayoff", "planned", bot.FormatDate(mt.Planned, m.b.Loc), "date", bot.FormatDate(mt.Time, m.b.Loc)))
	}
	card.Text = strings.Join(text, "\n")
	place := mt.Place
	if place == "" {
		place = t("meeting.place_tbd")
	}
	attend, absent := m.names(lang, r, mt, AnswerAttend), m.names(lang, r, mt, AnswerLeave)
	card.Fields = []bot.Field{
		{Label: t("meeting.field.time"), Value: m.when(lang, mt.Time)},
		{Label: t("meeting.field.place"), Value: place},
		{Label: t("meeting.field.agenda"), Value: m.agendaText(lang, mt)},
		{Label: t("meeting.field.attend", "count", len(attend)), Value: m.joinNames(lang, attend)},
		{Label: t("meeting.field.absent", "count", len(absent)), Value: m.joinNames(lang, absent)},
		{Label: t("meeting.field.invitees"), Value: m.bodyNames(lang, r, m.inviteesOf(r, mt))},
	}
	if mt.AttendanceTaken() {
		card.Fields = append(card.Fields, bot.Field{Label: t("meeting.field.presence"), Value: m.presence(lang, r, mt)})
	}
	if mt.State == MeetingScheduled {
		if mt.Upcoming(now) {
			card.Buttons = []bot.Button{
				{Label: t("meeting.button.attend"), Action: ActionAttend, Value: mt.ID, Style: "primary"},
				{Label: t("meeting.button.absent"), Action: ActionAbsent, Value: mt.ID},
			}
		} else {
			card.Color = bot.Grey
		}
	}
	card.Note = t("meeting.card.note", "creator", m.personName(r, mt.CreatedBy, lang), "time", bot.FormatTime(mt.CreatedAt, m.b.Loc))
	return card
}

// intro is the notice text: the schedule's template or the catalog's.
func (m *handler) intro(lang string, mt *Meeting) string {
	place := mt.Place
	if place == "" {
		place = m.b.T(lang, "meeting.place_tbd")
	}
	vals := map[string]string{
		"title": m.title(lang, mt), "id": mt.ID, "place": place,
		"date": bot.FormatDate(mt.Time, m.b.Loc), "time": mt.Time.In(m.b.Loc).Format("15:04"),
		"weekday": m.weekday(lang, mt.Time),
	}
	if mt.Template != "" {
		return fill(mt.Template, vals)
	}
	args := make([]any, 0, 2*len(vals))
	for k, v := range vals {
		args = append(args, k, v)
	}
	return m.b.T(lang, "meeting.card.intro", args...)
}

// fill replaces {name} placeholders in a configured template.
func fill(tpl string, vals map[string]string) string {
	var pairs []string
	for k, v := range vals {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(tpl)
}

// when renders "2026-12-01 09:00（周二）".
func (m *handler) when(lang string, t time.Time) string {
	return m.b.T(lang, "meeting.when", "time", bot.FormatTime(t, m.b.Loc), "weekday", m.weekday(lang, t))
}

func (m *handler) weekday(lang string, t time.Time) string {
	return m.b.T(lang, fmt.Sprintf("meeting.weekday.%d", int(t.In(m.b.Loc).Weekday())))
}

// holiday names an official holiday in lang (the calendar's names are
// Chinese).
func (m *handler) holiday(lang, name string) string {
	key := "meeting.holiday." + name
	if m.b.Translator().Has(lang, key) {
		return m.b.T(lang, key)
	}
	return name
}

// agendaText numbers the standing items, then the items open from last
// time.
func (m *handler) agendaText(lang string, mt *Meeting) string {
	open := mt.OpenItems
	if in, ok := mt.OpenItemsIn[i18n.Norm(lang)]; ok {
		open = in
	}
	items := append(append([]string(nil), mt.Agenda...), open...)
	if len(items) == 0 {
		return m.b.T(lang, "meeting.none")
	}
	var lines []string
	for i, it := range items {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, it))
	}
	return strings.Join(lines, "\n")
}

// names lists the people who gave answer, in answer order.
func (m *handler) names(lang string, r *bot.Roster, mt *Meeting, answer string) []string {
	var out []string
	for _, a := range mt.Answers {
		if a.Answer == answer {
			out = append(out, m.personName(r, a.Person, lang))
		}
	}
	return out
}

func (m *handler) joinNames(lang string, names []string) string {
	if len(names) == 0 {
		return m.b.T(lang, "meeting.none")
	}
	return strings.Join(names, m.b.T(lang, "list.sep"))
}

// summary is the one-line form of a meeting in lists.
func (m *handler) summary(lang string, mt *Meeting) string {
	attend, absent := mt.Count()
	state := m.b.T(lang, "meeting.state."+mt.State)
	return m.b.T(lang, "meeting.line", "id", mt.ID, "title", m.title(lang, mt), "time", m.when(lang, mt.Time), "state", state, "attend", attend, "absent", absent)
}
