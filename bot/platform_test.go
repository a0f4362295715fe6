package bot_test

import (
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// A platform the program lists is known by its spec; a later spec of the
// same name replaces the earlier; an unknown name has the zero spec.
func TestPlatformsKnowTheirSpecs(t *testing.T) {
	ps := bot.NewPlatforms(
		bot.PlatformSpec{Name: "wecom", ValidUserID: func(id string) bool { return len(id) == 3 }},
		bot.PlatformSpec{Name: "chat"},
		bot.PlatformSpec{Name: "wecom", LocalFiles: true},
	)
	if got := ps.Names(); len(got) != 2 || got[0] != "wecom" || got[1] != "chat" {
		t.Errorf("names %v, want wecom, chat", got)
	}
	if s, ok := ps.Get("wecom"); !ok || !s.LocalFiles || s.ValidUserID != nil {
		t.Errorf("wecom: %+v %v, want the later spec", s, ok)
	}
	if s, ok := ps.Get("chat"); !ok || !s.ValidUser("x") || s.ValidUser("") || s.Hint(&bot.Request{}) != "" {
		t.Errorf("chat: a spec without checks accepts any non-empty id and has no hint")
	}
	if s, ok := ps.Get("nowhere"); ok || s.Name != "nowhere" || s.LocalFiles {
		t.Errorf("unknown platform: %+v %v", s, ok)
	}
}

// A person is found by their id on a platform whose ids are names (the
// console), not by an id on another platform.
func TestRosterFindsNamedPlatformIDs(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(bot.PlatformSpec{Name: "wecom"}))
	r := env.Bot.People.BaseRoster()
	p := env.Person("wangming")
	p.IDs[console.Name] = "老王"
	p.IDs["wecom"] = "w-wang"
	if got, ok := r.FindPerson("老王"); !ok || got.ID != "wangming" {
		t.Errorf("by console name: %v %v", got, ok)
	}
	if got, ok := r.FindPerson("w-wang"); ok {
		t.Errorf("found %s by an id on a platform whose ids are not names", got.ID)
	}
}
