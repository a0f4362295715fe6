package meeting

import (
	"errors"
	"fmt"
	"slices"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/clue"
)

// SettingsSection is the key of the meeting settings in the
// configuration. The meetings' cadences are core schedules (schedules:,
// job meeting.notice), whose meeting: part this package checks.
const SettingsSection = "meetings"

// Settings holds the meeting settings (定期交流机制), the meetings
// section of the configuration.
type Settings struct {
	// Invitees name, per meeting kind (work, joint, review, other), the
	// bodies invited: a body id (room1) or a party kind
	// (supervision_room, for every body of it). A kind without an entry
	// invites DefaultInvitees.
	Invitees map[string][]string `yaml:"invitees"`
}

// DefaultInvitees are the inspection bodies (巡察机构: the office and its
// teams) and the bodies the speech has them meet with:
// "区委巡察机构定期会同区纪委监委相关监督检查室、派驻机构、派出监察员办公室".
var DefaultInvitees = []string{
	string(bot.InspectionOffice), string(bot.InspectionTeam), string(bot.SupervisionRoom), string(bot.StationedGroup), string(bot.SupervisorOffice),
}

// SettingsOf returns the meeting settings of c, checked against the
// roster, and the kinds of the meetings the schedules convene.
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	bodies := map[string]bool{}
	for _, b := range c.Bodies {
		bodies[b.ID] = true
	}
	errs := s.validate(bodies)
	for i, sc := range c.Schedules {
		if sc.Disabled || sc.Job != TaskNotice || sc.Meeting.Kind == "" {
			continue
		}
		if _, ok := ParseKind(sc.Meeting.Kind); !ok {
			errs = append(errs, fmt.Errorf("schedules[%d].meeting.kind: unknown meeting kind %q (work, joint, review or other)", i, sc.Meeting.Kind))
		}
	}
	return s, errors.Join(errs...)
}

// SetSettings replaces the meeting settings of c (tests, tools).
func SetSettings(c *config.Config, s Settings) { c.SetSection(SettingsSection, s) }

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}

func (c *Settings) validate(bodies map[string]bool) []error {
	var errs []error
	for kind, entries := range c.Invitees {
		key := "meetings.invitees." + kind
		if !MeetingKind(kind).Valid() {
			errs = append(errs, config.FieldErr(key, "unknown meeting kind %q (work, joint, review or other)", kind))
		}
		if len(entries) == 0 {
			errs = append(errs, config.FieldErr(key, "lists no body; leave the kind out for the default (%v)", DefaultInvitees))
		}
		for i, e := range entries {
			if !bodies[e] && !bot.PartyKind(e).Valid() {
				errs = append(errs, config.FieldErr(fmt.Sprintf("%s[%d]", key, i), "%q is neither a body id nor a party kind (%s)", e, config.KindList()))
			}
		}
	}
	return errs
}

// InviteesOf resolves the invitees of a meeting kind against r: the ids
// of the bodies named or of the named kinds, in roster order.
func (c *Settings) InviteesOf(r *bot.Roster, kind string) []string {
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

// clueGroup returns the clue domain's discipline-only group and the
// bodies that sit in it (clue.Settings), which the agenda must not show
// an inspected unit's open clues to.
func clueGroup(c *config.Config) (group string, bodies []string, err error) {
	cs, err := clue.SettingsOf(c)
	if err != nil {
		return "", nil, err
	}
	g, _ := cs.GroupOf(c)
	return g, cs.GroupBodies(c), nil
}
