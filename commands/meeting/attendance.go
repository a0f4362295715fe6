package meeting

import (
	"context"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// attendance handles "meeting attendance HY-… <body>[,<body>…]" (会议
// 签到): the inspection office records, once the meeting has started,
// which invited bodies actually attended. From then on the recorded
// attendance, not the answers given beforehand, decides who attended;
// an invited body that neither attended nor asked for leave is absent.
func (m *handler) attendance(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	mt, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	switch {
	case mt.State == MeetingCancelled:
		return nil, bot.Coded(bot.ECONFLICT, "meeting.err.cancelled", "id", mt.ID)
	case req.Time.Before(mt.Time):
		return nil, bot.Coded(bot.ECONFLICT, "meeting.err.not_started", "id", mt.ID, "time", m.when(req.Lang, mt.Time)).WithExample("cmd.meeting.attendance.example")
	}
	r := req.Roster
	invitees := m.inviteesOf(r, mt)
	var bodies []string
	for _, a := range req.Command.Args[1:] {
		for _, s := range strings.FieldsFunc(a, func(c rune) bool { return c == ',' || c == '，' || c == '、' || c == ';' || c == '；' }) {
			b, ok := r.FindBody(s)
			if !ok {
				return nil, bot.UsageError(req, "meeting.err.unknown_body", "input", s)
			}
			if !slices.Contains(invitees, b.ID) {
				return nil, bot.UsageError(req, "meeting.err.body_not_invited", "body", b.DisplayName(req.Lang), "id", mt.ID, "bodies", m.bodyNames(req.Lang, r, invitees))
			}
			if !slices.Contains(bodies, b.ID) {
				bodies = append(bodies, b.ID)
			}
		}
	}
	if len(bodies) == 0 {
		return nil, bot.UsageError(req, "meeting.err.no_bodies", "bodies", m.bodyNames(req.Lang, r, invitees))
	}
	var added []string
	updated, err := update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
		added = added[:0]
		if x.State == MeetingCancelled {
			return bot.Coded(bot.ECONFLICT, "meeting.err.cancelled", "id", x.ID)
		}
		if x.Invitees == nil {
			x.Invitees = invitees // keep the list the attendance was taken against
		}
		for _, b := range bodies {
			if !x.AttendedBy(b) {
				x.Attendance = append(x.Attendance, MeetingAttendance{Body: b, By: req.Person.ID, At: req.Time, Platform: req.Platform})
				added = append(added, b)
			}
		}
		if len(added) > 0 {
			history(x, req, req.Time, "attendance", strings.Join(added, ","))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(added) > 0 {
		if err := m.b.Audit.Record(ctx, req, "meeting.attendance", mt.ID, "bodies="+strings.Join(added, ",")); err != nil {
			return nil, err
		}
		m.refresh(ctx, updated, req.Time)
	}
	return bot.Text(m.b.T(req.Lang, "meeting.attendance.recorded", "id", mt.ID) + "\n" + m.presence(req.Lang, r, updated)), nil
}

// presence renders "出席：…；请假：…；缺席：…" over the invitees of a
// meeting whose attendance was taken.
func (m *handler) presence(lang string, r *bot.Roster, mt *Meeting) string {
	by := map[BodyPresence][]string{}
	for _, b := range m.inviteesOf(r, mt) {
		p := mt.PresenceOf(r, b)
		by[p] = append(by[p], b)
	}
	return m.b.T(lang, "meeting.attendance.line",
		"attended", m.bodyNames(lang, r, by[PresenceAttended]),
		"leave", m.bodyNames(lang, r, by[PresenceLeave]),
		"absent", m.bodyNames(lang, r, by[PresenceAbsent]))
}
