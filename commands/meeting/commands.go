package meeting

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

var reClock = regexp.MustCompile(`^(\d{1,2})[:：](\d{2})$`)

// parseClock reads HH:MM.
func parseClock(s string) (int, int, bool) {
	m := reClock.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return h, mi, h < 24 && mi < 60
}

// parseWhen reads "<date> [HH:MM]" from the arguments at i; without a
// time it keeps def's time of day. It returns how many arguments it used.
func (m *handler) parseWhen(req *bot.Request, i int, def time.Time) (time.Time, int, error) {
	ds := req.Command.Arg(i)
	if ds == "" {
		return time.Time{}, 0, bot.UsageError(req, "meeting.err.no_date")
	}
	d, err := bot.ParseDate(ds, req.Time, m.b.Loc)
	if err != nil {
		var e *bot.Error
		if errors.As(err, &e) {
			e.Example = "cmd." + req.Command.Verb.Name + "." + req.Command.Sub.Name + ".example"
		}
		return time.Time{}, 0, err
	}
	h, mi, used := def.In(m.b.Loc).Hour(), def.In(m.b.Loc).Minute(), 1
	if ts := req.Command.Arg(i + 1); ts != "" {
		var ok bool
		if h, mi, ok = parseClock(ts); ok {
			used = 2
		} else if reClock.MatchString(ts) || strings.ContainsAny(ts, ":：") {
			return time.Time{}, 0, bot.UsageError(req, "meeting.err.time", "input", ts)
		}
	}
	t := time.Date(d.Year(), d.Month(), d.Day(), h, mi, 0, 0, m.b.Loc)
	if !t.After(req.Time) {
		return time.Time{}, 0, bot.UsageError(req, "meeting.err.past", "time", bot.FormatTime(t, m.b.Loc))
	}
	return t, used, nil
}

// dayOffNote warns when a meeting is set on a day off.
func (m *handler) dayOffNote(lang string, t time.Time) string {
	if m.b.Cal.IsWorkday(t) {
		return ""
	}
	return "\n" + m.b.T(lang, "meeting.dayoff_warning", "date", bot.FormatDate(t, m.b.Loc))
}

// listPage is how many meetings a page of "meeting list all" shows.
const listPage = 30

// list handles "meeting list [all] [from:HY-…]": the upcoming meetings
// and those of the last 30 days, by time; with "all", every meeting,
// newest first, a page at a time, the option from continuing after the
// last meeting of the page before.
func (m *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	all := false
	switch w := strings.ToLower(req.Command.Arg(0)); w {
	case "":
	case "all", "全部":
		all = true
	default:
		return nil, bot.UsageError(req, "meeting.err.list", "word", w)
	}
	q := NewQueries(m.b.Store)
	var ms []*Meeting
	more := false
	if all {
		after := ""
		if from := req.Command.Opt("from", "从"); from != "" {
			prev, err := m.load(ctx, req, from)
			if err != nil {
				return nil, err
			}
			after = idxTime + index.Key(index.Time(prev.Time), prev.ID)
		}
		ids, mo, err := index.Page(ctx, m.b.Store, CollMeetingIndex, idxTime, after, listPage, true)
		if err != nil {
			return nil, err
		}
		if ms, err = q.load(ctx, ids, func(*Meeting) bool { return true }); err != nil {
			return nil, err
		}
		more = mo
	} else {
		// After the bare time key: a meeting at since itself has an id
		// that goes on and so comes after it, as Time.After(since) wants
		// it not to; the check below drops it.
		since := req.Time.AddDate(0, 0, -30)
		ids, _, err := index.Page(ctx, m.b.Store, CollMeetingIndex, idxTime, idxTime+index.Time(since), 0, false)
		if err != nil {
			return nil, err
		}
		if ms, err = q.load(ctx, ids, func(mt *Meeting) bool { return mt.Time.After(since) }); err != nil {
			return nil, err
		}
	}
	var lines []string
	for _, mt := range ms {
		lines = append(lines, "• "+m.summary(req.Lang, mt))
	}
	if len(lines) == 0 {
		return bot.Text(m.b.T(req.Lang, "meeting.list.empty") + m.upcomingSchedules(req.Lang, req.Time)), nil
	}
	text := m.b.T(req.Lang, "meeting.list.header", "count", len(lines)) + "\n" + strings.Join(lines, "\n")
	if more {
		text += "\n" + m.b.T(req.Lang, "meeting.list.more", "id", ms[len(ms)-1].ID)
	}
	return bot.Text(text), nil
}

// upcomingSchedules says when the meeting schedules next send notices.
func (m *handler) upcomingSchedules(lang string, now time.Time) string {
	var lines []string
	for _, s := range m.scheds {
		if s.Task != TaskNotice {
			continue
		}
		if o, ok := s.Next(now); ok {
			lines = append(lines, m.b.T(lang, "meeting.list.scheduled", "title", s.Label(), "time", m.when(lang, o.At), "notice", bot.FormatTime(o.Fire, m.b.Loc)))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n" + strings.Join(lines, "\n")
}

// next handles "meeting next": the card of the next meeting, with the
// buttons to answer.
func (m *handler) next(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	// The first scheduled meeting after now, from the index by time.
	r := bot.Range{Prefix: idxScheduled, After: idxScheduled + index.Time(req.Time) + index.Sep + "\xff", Limit: 20}
	for {
		docs, err := bot.ScanDocs(ctx, m.b.Store, CollMeetingIndex, r)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		ms, err := NewQueries(m.b.Store).load(ctx, ids, func(mt *Meeting) bool { return mt.Upcoming(req.Time) })
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			return &bot.Response{Replies: []bot.Reply{{Card: m.card(req.Lang, req.Roster, ms[0], req.Time)}}}, nil
		}
		if len(docs) < r.Limit {
			break
		}
		r.After = docs[len(docs)-1].ID
	}
	return bot.Text(m.b.T(req.Lang, "meeting.next.none") + m.upcomingSchedules(req.Lang, req.Time)), nil
}

// show handles "meeting show HY-…": the card, the notes and the history.
func (m *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	mt, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, n := range mt.Notes {
		lines = append(lines, m.b.T(req.Lang, "meeting.show.note", "time", bot.FormatTime(n.Time, m.b.Loc), "person", m.personName(req.Roster, n.Person, req.Lang), "text", n.Text))
	}
	resp := &bot.Response{Replies: []bot.Reply{{Card: m.card(req.Lang, req.Roster, mt, req.Time)}}}
	if len(lines) > 0 {
		resp.Replies = append(resp.Replies, bot.Reply{Text: m.b.T(req.Lang, "meeting.show.notes") + "\n" + strings.Join(lines, "\n")})
	}
	return resp, nil
}

// create handles "meeting new <kind> <date> [HH:MM] [place:…] [title:…]
// [agenda:…]": an ad-hoc meeting, announced in the meeting group.
func (m *handler) create(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	kw := req.Command.Arg(0)
	if kw == "" {
		return nil, bot.UsageError(req, "meeting.err.no_kind")
	}
	kind, ok := ParseKind(kw)
	if !ok {
		return nil, bot.UsageError(req, "meeting.err.kind", "kind", kw)
	}
	def := time.Date(2000, 1, 1, 9, 0, 0, 0, m.b.Loc)
	at, used, err := m.parseWhen(req, 1, def)
	if err != nil {
		return nil, err
	}
	if extra := req.Command.Rest(1 + used); extra != "" {
		return nil, bot.UsageError(req, "meeting.err.extra", "text", extra)
	}
	place := req.Command.Opt("place", "地点")
	title := req.Command.Opt("title", "名称", "主题")
	var agenda []string
	for _, it := range strings.FieldsFunc(req.Command.Opt("agenda", "议程", "议题"), func(r rune) bool { return r == ';' || r == '；' }) {
		if it = strings.TrimSpace(it); it != "" {
			agenda = append(agenda, it)
		}
	}
	if utf8.RuneCountInString(place) > maxText || utf8.RuneCountInString(title) > maxText || len(agenda) > maxAgenda {
		return nil, bot.UsageError(req, "meeting.err.too_long", "max", maxText)
	}
	for _, it := range agenda {
		if utf8.RuneCountInString(it) > maxText {
			return nil, bot.UsageError(req, "meeting.err.too_long", "max", maxText)
		}
	}
	id, err := bot.NewID(ctx, m.b.Store, PrefixMeeting, at.Year())
	if err != nil {
		return nil, err
	}
	invitees, err := m.invitees(ctx, kind)
	if err != nil {
		return nil, err
	}
	mt := &Meeting{
		ID: id, Kind: kind, Title: title, Time: at, Place: place, Agenda: agenda, Invitees: invitees,
		Group: m.cfg.NoticeGroup("meeting"), State: MeetingScheduled,
		RemindBefore: DefaultRemind, RemindAt: at.Add(-DefaultRemind),
		CreatedBy: req.Person.ID, CreatedAt: req.Time,
	}
	m.setOpenItems(ctx, mt, req.Time)
	history(mt, req, req.Time, "create", "")
	if err := create(ctx, m.b.Store, mt); err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "meeting.create", id, "at="+bot.FormatTime(at, m.b.Loc)); err != nil {
		return nil, err
	}
	if _, err := m.post(ctx, mt, req.Time); err != nil {
		m.b.Log.Error("posting a meeting card", "meeting", id, "err", err)
	}
	text := m.b.T(req.Lang, "meeting.created", "id", id, "title", m.title(req.Lang, mt), "time", m.when(req.Lang, at), "group", m.groupName(mt.Group)) + m.dayOffNote(req.Lang, at)
	return bot.Text(text), nil
}

func (m *handler) groupName(key string) string {
	if g, ok := m.cfg.Groups[key]; ok && g.Name != "" {
		return g.Name
	}
	return key
}

// move handles "meeting move HY-… <date> [HH:MM]".
func (m *handler) move(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	mt, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	if mt.State == MeetingCancelled {
		return nil, bot.Coded(bot.ECONFLICT, "meeting.err.cancelled", "id", mt.ID)
	}
	at, used, err := m.parseWhen(req, 1, mt.Time)
	if err != nil {
		return nil, err
	}
	if extra := req.Command.Rest(1 + used); extra != "" {
		return nil, bot.UsageError(req, "meeting.err.extra", "text", extra)
	}
	var from time.Time
	updated, err := update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
		if x.State == MeetingCancelled {
			return bot.Coded(bot.ECONFLICT, "meeting.err.cancelled", "id", x.ID)
		}
		if x.Time.Equal(at) {
			return bot.Coded(bot.EINVALID, "meeting.err.same_time", "time", bot.FormatTime(at, m.b.Loc))
		}
		from = x.Time
		x.MovedFrom, x.Time = x.Time, at
		if x.RemindBefore > 0 {
			x.RemindAt, x.Reminded = at.Add(-x.RemindBefore), time.Time{}
		}
		history(x, req, req.Time, "move", bot.FormatTime(from, m.b.Loc)+" → "+bot.FormatTime(at, m.b.Loc))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "meeting.move", mt.ID, bot.FormatTime(from, m.b.Loc)+" → "+bot.FormatTime(at, m.b.Loc)); err != nil {
		return nil, err
	}
	lang := m.b.Lang
	m.refresh(ctx, updated, req.Time)
	m.tell(ctx, updated, m.b.T(lang, "meeting.moved_notice", "title", m.title(lang, updated), "id", updated.ID, "time", m.when(lang, at), "from", m.when(lang, from)))
	return bot.Text(m.b.T(req.Lang, "meeting.moved", "id", updated.ID, "time", m.when(req.Lang, at), "from", m.when(req.Lang, from)) + m.dayOffNote(req.Lang, at)), nil
}

// cancel handles "meeting cancel HY-… [reason]".
func (m *handler) cancel(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	mt, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	reason := afterWord(req, mt.ID)
	if utf8.RuneCountInString(reason) > maxText {
		return nil, bot.UsageError(req, "meeting.err.too_long", "max", maxText)
	}
	updated, err := update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
		if x.State == MeetingCancelled {
			return bot.Coded(bot.ECONFLICT, "meeting.err.cancelled", "id", x.ID)
		}
		x.State, x.Reason = MeetingCancelled, reason
		history(x, req, req.Time, "cancel", reason)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "meeting.cancel", mt.ID, reason); err != nil {
		return nil, err
	}
	lang := m.b.Lang
	shown := reason
	if shown == "" {
		shown = m.b.T(lang, "meeting.none")
	}
	m.refresh(ctx, updated, req.Time)
	m.tell(ctx, updated, m.b.T(lang, "meeting.cancelled_notice", "title", m.title(lang, updated), "id", updated.ID, "time", m.when(lang, updated.Time), "reason", shown))
	return bot.Text(m.b.T(req.Lang, "meeting.cancelled", "id", updated.ID)), nil
}

// note handles "meeting note HY-… <text>": minutes or a decision, shown
// on the agenda of the next meeting of the kind.
func (m *handler) note(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	mt, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	text := afterWord(req, mt.ID)
	if text == "" {
		return nil, bot.UsageError(req, "meeting.err.no_note")
	}
	if utf8.RuneCountInString(text) > maxNote {
		return nil, bot.UsageError(req, "meeting.err.too_long", "max", maxNote)
	}
	_, err = update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
		x.Notes = append(x.Notes, MeetingNote{Time: req.Time, Person: req.Person.ID, Platform: req.Platform, Text: text})
		history(x, req, req.Time, "note", "")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "meeting.note", mt.ID, text); err != nil {
		return nil, err
	}
	return bot.Text(m.b.T(req.Lang, "meeting.noted", "id", mt.ID, "kind", m.kindName(req.Lang, mt.Kind))), nil
}

// answerButton handles the 参加 / 请假 buttons: one answer per person and
// meeting, which they may change until the meeting starts.
func (m *handler) answerButton(answer string) bot.RunFunc {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		mt, err := m.load(ctx, req, req.Value)
		if err != nil {
			return nil, err
		}
		var refused string
		switch {
		case !m.invited(req.Roster, mt, req.Person):
			// Not an invitee: say so, and who is invited, without touching
			// the card.
			if err := m.b.Audit.Result(ctx, req, "meeting."+answer, mt.ID, "not_invited", bot.ResultRefused); err != nil {
				return nil, err
			}
			return &bot.Response{Toast: m.b.T(req.Lang, "meeting.err.not_invited", "id", mt.ID, "bodies", m.bodyNames(req.Lang, req.Roster, m.inviteesOf(req.Roster, mt)))}, nil
		case mt.State == MeetingCancelled:
			refused = m.b.T(req.Lang, "meeting.err.cancelled", "id", mt.ID)
		case !mt.Upcoming(req.Time):
			refused = m.b.T(req.Lang, "meeting.err.started", "id", mt.ID)
		}
		if refused != "" {
			if err := m.b.Audit.Result(ctx, req, "meeting."+answer, mt.ID, "closed", bot.ResultRefused); err != nil {
				return nil, err
			}
			return &bot.Response{Toast: refused, Replies: []bot.Reply{{Card: m.card(m.b.Lang, req.Roster, mt, req.Time), Replace: true}}}, nil
		}
		changed := false
		updated, err := update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
			if x.State == MeetingCancelled || !x.Upcoming(req.Time) {
				return bot.Coded(bot.ECONFLICT, "meeting.err.started", "id", x.ID)
			}
			changed = x.SetAnswer(req.Person.ID, answer, req.Time, req.Platform)
			return nil
		})
		if err != nil {
			return nil, err
		}
		toast := m.b.T(req.Lang, "meeting.answered."+answer, "id", updated.ID, "title", m.title(req.Lang, updated))
		if !changed {
			toast = m.b.T(req.Lang, "meeting.answered.same", "id", updated.ID)
		} else if err := m.b.Audit.Record(ctx, req, "meeting."+answer, updated.ID, ""); err != nil {
			return nil, err
		}
		card := m.card(m.b.Lang, req.Roster, updated, req.Time)
		// The clicked card is replaced in the answer; the same card on other
		// platforms is updated here.
		var others []bot.MessageRef
		for _, r := range updated.Cards {
			if !m.b.Out.Names(ctx, r, req.Message) {
				others = append(others, r)
			}
		}
		if changed && len(others) > 0 {
			if err := m.b.Out.UpdateCards(ctx, others, card); err != nil {
				m.b.Log.Error("updating meeting cards", "meeting", updated.ID, "err", err)
			}
		}
		return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: card, Replace: true}}}, nil
	}
}

// refresh updates the posted cards of a meeting after a change by
// command; a platform failure is logged, the change stands.
func (m *handler) refresh(ctx context.Context, mt *Meeting, now time.Time) {
	if len(mt.Cards) == 0 {
		return
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		m.b.Log.Error("roster for meeting card", "meeting", mt.ID, "err", err)
		return
	}
	if err := m.b.Out.UpdateCards(ctx, mt.Cards, m.card(m.b.Lang, r, mt, now)); err != nil {
		m.b.Log.Error("updating meeting cards", "meeting", mt.ID, "err", err)
	}
}

// tell posts a short notice about a meeting to its group.
func (m *handler) tell(ctx context.Context, mt *Meeting, text string) {
	if _, err := m.b.Out.Notify(ctx, bot.Notice{Group: mt.Group, Text: text}); err != nil {
		m.b.Log.Error("meeting notice", "meeting", mt.ID, "err", err)
	}
}
