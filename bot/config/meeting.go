package config

import (
	"fmt"
	"slices"

	"github.com/xunji-bot/xunji/bot"
)

// MeetingsConfig holds the meeting settings (定期交流机制).
type MeetingsConfig struct {
	// Invitees name, per meeting kind (work, joint, review, other), the
	// bodies invited: a body id (room1) or a party kind
	// (supervision_room, for every body of it). A kind without an entry
	// invites DefaultInvitees.
	Invitees map[string][]string `yaml:"invitees"`
}

// MeetingKinds are the meeting kinds the invitees may name; the meeting
// package's kinds (meeting.MeetingKinds), which a test there keeps equal.
var MeetingKinds = []string{"work", "joint", "review", "other"}

// DefaultInvitees are the inspection bodies (巡察机构: the office and its
// teams) and the bodies the speech has them meet with:
// "区委巡察机构定期会同区纪委监委相关监督检查室、派驻机构、派出监察员办公室".
var DefaultInvitees = []string{
	string(bot.InspectionOffice), string(bot.InspectionTeam), string(bot.SupervisionRoom), string(bot.StationedGroup), string(bot.SupervisorOffice),
}

func (c *MeetingsConfig) validate(bodies map[string]bool) []error {
	var errs []error
	for kind, entries := range c.Invitees {
		key := "meetings.invitees." + kind
		if !slices.Contains(MeetingKinds, kind) {
			errs = append(errs, fieldErr(key, "unknown meeting kind %q (work, joint, review or other)", kind))
		}
		if len(entries) == 0 {
			errs = append(errs, fieldErr(key, "lists no body; leave the kind out for the default (%v)", DefaultInvitees))
		}
		for i, e := range entries {
			if !bodies[e] && !bot.PartyKind(e).Valid() {
				errs = append(errs, fieldErr(fmt.Sprintf("%s[%d]", key, i), "%q is neither a body id nor a party kind (%s)", e, kindList()))
			}
		}
	}
	return errs
}

// InviteesOf resolves the invitees of a meeting kind against r: the ids
// of the bodies named or of the named kinds, in roster order.
func (c *MeetingsConfig) InviteesOf(r *bot.Roster, kind string) []string {
	entries, ok := c.Invitees[kind]
	if !ok {
		entries = DefaultInvitees
	}
	var out []string
	for _, b := range r.Bodies {
		if slices.Contains(entries, b.ID) || slices.Contains(entries, string(b.Kind)) {
			out = append(out, b.ID)
		}
	}
	return out
}
