package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/commands/meeting"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/bot"
)

// saveMeeting stores one meeting with its index documents, as the
// meeting commands do.
func saveMeeting(ctx context.Context, s bot.Store, m *meeting.Meeting) error {
	return meeting.Seed(ctx, s, m)
}

// genMeetings makes year y's meetings as the demo schedules hold them:
// the monthly work meeting, the quarterly joint meeting, the yearly
// review, with invitations answered and attendance recorded.
func (g *gen) genMeetings(ctx context.Context, y int) error {
	for mo := time.January; mo <= time.December; mo++ {
		kinds := []meeting.MeetingKind{meeting.MeetingWork}
		if mo%3 == 0 {
			kinds = append(kinds, meeting.MeetingJoint)
		}
		if mo == time.December {
			kinds = append(kinds, meeting.MeetingReview)
		}
		for i, k := range kinds {
			at := time.Date(y, mo, 3+7*i, 9, 30, 0, 0, g.loc)
			if !at.Before(g.now) {
				return nil
			}
			m := g.meeting(y, k, at)
			if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveMeeting(ctx, s, m) }); err != nil {
				return err
			}
			g.stats.Counts[meeting.CollMeetings]++
		}
	}
	return nil
}

func (g *gen) meeting(y int, k meeting.MeetingKind, at time.Time) *meeting.Meeting {
	created := at.AddDate(0, 0, -7)
	invited := []string{"office", "team1", "team2", "room2", "group3", "sup_chengguan"}
	m := &meeting.Meeting{
		ID: g.nextID(meeting.PrefixMeeting, y), Kind: k, Time: at, Planned: at, Place: "区委巡察办三楼会议室",
		Agenda: []string{"通报上月整改和线索办理情况", "研究部署本月重点工作"}, Group: "collab", State: meeting.MeetingScheduled,
		Schedule: string(k), Invitees: invited, CreatedAt: created, RemindAt: at.Add(-24 * time.Hour), Reminded: at.Add(-24 * time.Hour),
	}
	g.audit(created, "", "meeting.create", m.ID, "")
	g.audit(m.Reminded, "", "meeting.remind", m.ID, "")
	for _, b := range invited {
		who := g.personOf(b)
		ans := meeting.AnswerAttend
		if g.chance(0.1) {
			ans = meeting.AnswerLeave
		} else {
			m.Attendance = append(m.Attendance, meeting.MeetingAttendance{Body: b, By: "wangming", At: at.Add(10 * time.Minute), Platform: lark.Name})
		}
		m.Answers = append(m.Answers, meeting.MeetingAnswer{Person: who, Answer: ans, At: g.between(created, at), Platform: g.platform()})
	}
	g.audit(at.Add(10*time.Minute), "wangming", "meeting.attendance", m.ID, "")
	return m
}
