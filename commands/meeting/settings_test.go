package meeting_test

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/meeting"
)

// The demo invites the case office to the joint meeting but not to the
// work meeting, and only the Chengguan supervisor office to the work
// meeting; a kind left out gets the speech's bodies.
func TestMeetingInviteesResolveBodiesAndKinds(t *testing.T) {
	c := config.Demo()
	r := c.Roster(nil)
	s, err := meeting.SettingsOf(c)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind string
		want string
	}{
		{"work", "office,team1,team2,room1,room2,group3,sup_chengguan"},
		{"joint", "office,team1,team2,room1,room2,group3,sup_chengguan,sup_hexi,case"},
		{"other", "office,team1,team2,room1,room2,group3,sup_chengguan,sup_hexi"},
	}
	for _, tc := range tests {
		if got := strings.Join(s.InviteesOf(r, tc.kind), ","); got != tc.want {
			t.Errorf("%s: invitees %s, want %s", tc.kind, got, tc.want)
		}
	}
}

func TestBadMeetingSettingsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"meetings: {invitees: {weekly: [supervision_room]}}":  "meetings.invitees.weekly",
		"meetings: {invitees: {work: [supervision_room, x]}}": "meetings.invitees.work[1]",
		"meetings: {invitees: {joint: []}}":                   "meetings.invitees.joint",
		"meetings:\n  invitee: {joint: [case_office]}":        "meetings.invitee",
		"meetings:\n  invitees: [case_office]":                "meetings.invitees",
	}
	for in, key := range cases {
		c, err := config.Parse([]byte(in))
		if err == nil {
			_, err = meeting.SettingsOf(c)
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %q", in, err, key)
		}
	}
}
